import CVipsShim
import PixelFlowPipeline

/// Encodes a rendered variant in its output format.
enum VariantEncoder {
    static func encode(_ image: VipsImageRef, spec: VariantSpec) throws(VipsFailure) -> [UInt8] {
        let strip: Int32 = spec.strip ? 1 : 0
        let quality = Int32(spec.effectiveQuality)
        let effort = Int32(spec.effectiveEffort)
        switch spec.format {
        case .jpeg:
            let opaque = try flattened(image, onto: spec.background ?? .white)
            return try save("jpegsave") { buffer, length in
                pf_jpegsave_buffer(opaque.pointer, buffer, length, quality, spec.progressive ? 1 : 0, strip)
            }
        case .png:
            return try save("pngsave") { buffer, length in pf_pngsave_buffer(image.pointer, buffer, length, strip) }
        case .webp:
            let encoded = try save("webpsave") { buffer, length in
                pf_webpsave_buffer(image.pointer, buffer, length, quality, spec.lossless ? 1 : 0, effort, strip)
            }
            return spec.strip ? WebPMetadata.stripped(encoded) : encoded
        case .avif:
            return try save("heifsave") { buffer, length in
                pf_heifsave_buffer(
                    image.pointer, buffer, length, quality, effort,
                    Int32(VIPS_FOREIGN_HEIF_COMPRESSION_AV1.rawValue), strip)
            }
        case .heic:
            return try save("heifsave") { buffer, length in
                pf_heifsave_buffer(
                    image.pointer, buffer, length, quality, effort,
                    Int32(VIPS_FOREIGN_HEIF_COMPRESSION_HEVC.rawValue), strip)
            }
        case .gif:
            return try save("gifsave") { buffer, length in
                pf_gifsave_buffer(image.pointer, buffer, length, effort, strip)
            }
        }
    }

    /// JPEG has no alpha: composite onto the background instead of letting the encoder drop the band.
    private static func flattened(_ image: VipsImageRef, onto colour: RGBColour) throws(VipsFailure) -> VipsImageRef {
        guard image.hasAlpha else { return image }
        let background =
            image.bands > 2
            ? [Double(colour.red), Double(colour.green), Double(colour.blue)]
            : [(Double(colour.red) + Double(colour.green) + Double(colour.blue)) / 3]
        let flat = try image.apply("flatten") { input, out in
            pf_flatten(input, out, background, Int32(background.count))
        }
        return try SourceDecoder.toEightBitDisplaySpace(flat)
    }

    private static func save(
        _ operation: String,
        _ body: (UnsafeMutablePointer<UnsafeMutableRawPointer?>, UnsafeMutablePointer<Int>) -> Int32
    ) throws(VipsFailure) -> [UInt8] {
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        guard body(&buffer, &length) == 0, let bytes = buffer else {
            if let bytes = buffer { g_free(bytes) }
            throw VipsFailure(operation)
        }
        defer { g_free(bytes) }
        return Array(UnsafeRawBufferPointer(start: bytes, count: length))
    }
}
