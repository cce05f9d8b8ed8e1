/// The memory a job's decode holds at its peak, estimated from the header and the decode plan before any pixel is
/// decoded: what it takes from the engine's `DecodeBudget`.
///
/// The bytes per pixel are measured: a photo alone through `pixelflow process --threads 1`, its peak RSS above a
/// small baseline JPEG's, less the ≈ 20 MB any job's base and encoders take (docs/benchmarks.md, "A worker's peak
/// memory at 2 slots").
struct DecodeFootprint: Equatable {
    /// A whole frame the decoder holds while it decodes, freed when the decode ends: libheif decodes the full
    /// picture before anything shrinks it (YCbCr planes, then interleaved RGB); a progressive JPEG keeps every DCT
    /// coefficient (2 bytes each) until its last scan, shrink-on-load or not; libspng loads an interlaced or an
    /// alpha PNG whole; libnsgif fills a full RGBA frame; libwebp a full frame at the shrunk size. Baseline JPEGs,
    /// opaque PNGs and TIFFs stream strips into the resize.
    let frameBytes: Int
    /// The decoded base in memory that every variant is derived from, held until the job ends.
    let baseBytes: Int

    var totalBytes: Int { frameBytes + baseBytes }

    /// 3.7–4.8 measured on 8–13 MP HEICs.
    static let heifBytesPerPixel = 5
    /// 5.0 (4:2:0) to 5.7 (4:4:4) measured on 17–18 MP photos.
    static let progressiveJPEGBytesPerPixel = 6
    static let gifBytesPerPixel = 8
    /// RGBA, the widest 8-bit pixel the engine decodes to.
    static let rgbaBytesPerPixel = 4

    init(header: SourceHeader, plan: DecodePlan) {
        let sourcePixels = Self.product(header.width, header.height)
        let boxPixels = Self.product(plan.boxWidth, plan.boxHeight)
        switch header.format {
        case .heif: frameBytes = Self.product(sourcePixels, Self.heifBytesPerPixel)
        case .gif: frameBytes = Self.product(sourcePixels, Self.gifBytesPerPixel)
        case .webp: frameBytes = Self.product(boxPixels, Self.rgbaBytesPerPixel)
        case .jpeg where header.isInterlaced:
            frameBytes = Self.product(sourcePixels, Self.progressiveJPEGBytesPerPixel)
        case .png where header.isInterlaced || header.bands == 2 || header.bands == 4:
            frameBytes = Self.product(sourcePixels, Self.rgbaBytesPerPixel)
        case .jpeg, .png, .tiff: frameBytes = 0
        }
        baseBytes = Self.product(boxPixels, Self.rgbaBytesPerPixel)
    }

    /// Saturates instead of trapping (a header may declare sides up to `max_side` each); two saturated terms
    /// still add up without overflow.
    private static func product(_ a: Int, _ b: Int) -> Int {
        let (result, overflow) = max(0, a).multipliedReportingOverflow(by: max(0, b))
        return overflow ? Int.max / 2 : min(result, Int.max / 2)
    }
}
