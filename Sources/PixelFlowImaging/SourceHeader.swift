import CVipsShim

/// Input formats the engine accepts, keyed by the libvips loader that recognises them.
public enum SourceFormat: String, Sendable, CaseIterable {
    case jpeg, png, webp, heif, tiff, gif

    /// The allow-list, by the loader class `vips_foreign_find_load_buffer` names: any other loader
    /// libvips might pick (svg, pdf, magick, ...) is refused.
    init?(loader: String) {
        switch loader {
        case "VipsForeignLoadJpegBuffer": self = .jpeg
        case "VipsForeignLoadPngBuffer": self = .png
        case "VipsForeignLoadWebpBuffer": self = .webp
        case "VipsForeignLoadHeifBuffer": self = .heif
        case "VipsForeignLoadTiffBuffer": self = .tiff
        case "VipsForeignLoadNsgifBuffer": self = .gif
        default: return nil
        }
    }

    /// "VipsForeignLoadSvgBuffer" → "svg".
    static func displayName(ofLoader loader: String) -> String {
        var name = Substring(loader)
        if name.hasPrefix("VipsForeignLoad") { name = name.dropFirst("VipsForeignLoad".count) }
        if name.hasSuffix("Buffer") { name = name.dropLast("Buffer".count) }
        return name.lowercased()
    }
}

/// What the source's header declares, read before any pixel is decoded.
public struct SourceHeader: Sendable, Equatable {
    public let format: SourceFormat
    public let width: Int
    public let height: Int
    public let frames: Int
    /// EXIF orientation 1–8 (1 when absent).
    public let orientation: Int
    /// The source embeds an ICC profile.
    public let hasProfile: Bool
    public let isCMYK: Bool
    /// Channels per pixel, alpha included.
    public let bands: Int
    /// A progressive JPEG or an Adam7-interlaced PNG: its decoder holds the whole image, however small the output.
    public let isInterlaced: Bool

    /// Dimensions after EXIF orientation, the ones variant sizes and crop rectangles refer to.
    public var orientedWidth: Int { (5...8).contains(orientation) ? height : width }
    public var orientedHeight: Int { (5...8).contains(orientation) ? width : height }
}

/// Recognises the format, reads the header and enforces the limits, all before decoding.
enum SourceInspector {
    static func inspect(_ bytes: UnsafeRawBufferPointer, limits: ImagingLimits) throws(ImagingError) -> SourceHeader {
        guard bytes.count > 0, let base = bytes.baseAddress else {
            throw ImagingError(.undecodableImage, "the source is empty (0 bytes)")
        }
        guard bytes.count <= limits.maxSourceBytes else {
            throw ImagingError(
                .sourceTooLarge,
                "the source is \(bytes.count) bytes, the limit (max_source_bytes) is \(limits.maxSourceBytes)")
        }
        guard let loaderName = vips_foreign_find_load_buffer(base, bytes.count) else {
            VipsErrorBuffer.clear()
            throw ImagingError(.unsupportedFormat, "not an image in an accepted format (\(accepted))")
        }
        let loader = String(cString: loaderName)
        guard let format = SourceFormat(loader: loader) else {
            let name = SourceFormat.displayName(ofLoader: loader)
            throw ImagingError(.unsupportedFormat, "\(name) input is not accepted (accepted: \(accepted))")
        }

        let header: VipsImageRef
        do {
            header = try VipsImageRef.make("header") { out in
                pf_image_new_from_buffer(base, bytes.count, Int32(VIPS_FAIL_ON_TRUNCATED.rawValue), out)
            }
        } catch {
            throw ImagingError(.undecodableImage, "cannot read the \(format.rawValue) header: \(error.message)")
        }
        let frames = max(1, Int(vips_image_get_n_pages(header.pointer)))
        let result = SourceHeader(
            format: format, width: header.width, height: header.height, frames: frames,
            orientation: Int(vips_image_get_orientation(header.pointer)),
            hasProfile: header.hasField("icc-profile-data"),
            isCMYK: header.interpretation == VIPS_INTERPRETATION_CMYK,
            bands: header.bands,
            isInterlaced: format == .jpeg ? header.int("jpeg-multiscan") == 1 : format == .png && isAdam7PNG(bytes)
        )
        try check(result, limits: limits)
        return result
    }

    static func check(_ header: SourceHeader, limits: ImagingLimits) throws(ImagingError) {
        if header.width > limits.maxSide || header.height > limits.maxSide {
            throw ImagingError(
                .imageTooLarge,
                "the header declares \(header.width)×\(header.height), the limit (max_side) is \(limits.maxSide) per side"
            )
        }
        let pixels = header.width * header.height
        if pixels > limits.maxPixels {
            throw ImagingError(
                .imageTooLarge,
                "the header declares \(header.width)×\(header.height) = \(pixels) pixels, the limit (max_pixels) is \(limits.maxPixels)"
            )
        }
        if header.frames > limits.maxFrames {
            throw ImagingError(
                .tooManyFrames,
                "the header declares \(header.frames) frames, the limit (max_frames) is \(limits.maxFrames)")
        }
    }

    /// The interlace method, the last byte of the IHDR chunk that a PNG must start with (libvips does not report it).
    static func isAdam7PNG(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let interlaceOffset = 8 + 8 + 12  // signature, IHDR length and type, then width to filter method
        return bytes.count > interlaceOffset && bytes[interlaceOffset] == 1
    }

    private static let accepted = SourceFormat.allCases.map(\.rawValue).joined(separator: ", ")
}
