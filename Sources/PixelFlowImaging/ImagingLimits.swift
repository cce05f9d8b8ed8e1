/// What the engine accepts from an untrusted source. The config key of each limit is in its comment
/// (docs/imaging.md lists them with their defaults).
public struct ImagingLimits: Sendable, Equatable {
    /// `max_source_bytes`: the encoded source's size.
    public var maxSourceBytes: Int
    /// `max_pixels`: width × height of the (first frame of the) source, from its header.
    public var maxPixels: Int
    /// `max_side`: the source's width or height, from its header.
    public var maxSide: Int
    /// `max_frames`: frames (GIF, WebP) or pages (TIFF, HEIF) declared by the header.
    public var maxFrames: Int
    /// `job_timeout_ms`: wall-clock budget of one job, decode and every variant included.
    public var jobTimeout: Duration
    /// `decode_budget_bytes`: memory the engine's decodes may hold at once, across its threads, as estimated from
    /// each source's header before decoding (`DecodeFootprint`). A job that does not fit waits for one that does
    /// to finish, rather than fail; a job larger than the whole budget runs alone.
    public var decodeBudgetBytes: Int

    public init(
        maxSourceBytes: Int = 64 * 1024 * 1024,
        maxPixels: Int = 50_000_000,
        maxSide: Int = 32_768,
        maxFrames: Int = 1_000,
        jobTimeout: Duration = .seconds(30),
        decodeBudgetBytes: Int = ImagingLimits.defaultDecodeBudgetBytes
    ) {
        self.maxSourceBytes = maxSourceBytes
        self.maxPixels = maxPixels
        self.maxSide = maxSide
        self.maxFrames = maxFrames
        self.jobTimeout = jobTimeout
        self.decodeBudgetBytes = decodeBudgetBytes
    }

    /// Room for one 24-megapixel HEIC's full decode beside a few shrink-on-load ones (docs/benchmarks.md, "A
    /// worker's peak memory at 2 slots").
    public static let defaultDecodeBudgetBytes = 192 * 1024 * 1024

    public static let `default` = ImagingLimits()
}
