import CVipsShim
import PixelFlowImaging

/// Source images made with libvips at run time, and libvips' own reading of what comes back.
enum TestImages {
    /// A JPEG with a gradient and some texture, so encoders have real work.
    static func jpeg(width: Int, height: Int, seed: Int = 0) -> [UInt8] {
        VipsRuntime.start()
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let offset = (y * width + x) * 3
                pixels[offset] = UInt8(truncatingIfNeeded: x * 255 / max(width, 1) + seed)
                pixels[offset + 1] = UInt8(truncatingIfNeeded: y * 255 / max(height, 1))
                pixels[offset + 2] = UInt8(truncatingIfNeeded: (x ^ y) &* 7 &+ seed)
            }
        }
        let image = pixels.withUnsafeBufferPointer {
            pf_image_from_pixels($0.baseAddress, Int32(width), Int32(height), 3)!
        }
        defer { g_object_unref(image) }
        image.pointee.Type = VIPS_INTERPRETATION_sRGB
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        precondition(pf_jpegsave_buffer(image, &buffer, &length, 90, 0, 1) == 0, "jpegsave failed")
        defer { g_free(buffer) }
        return Array(UnsafeRawBufferPointer(start: buffer, count: length))
    }

    /// What libvips makes of encoded bytes: its loader's format name and the size.
    static func inspect(_ bytes: [UInt8]) -> (format: String, width: Int, height: Int)? {
        VipsRuntime.start()
        var image: UnsafeMutablePointer<VipsImage>?
        let status = bytes.withUnsafeBytes { pf_image_new_from_buffer($0.baseAddress, $0.count, 0, &image) }
        guard status == 0, let image else {
            vips_error_clear()
            return nil
        }
        defer { g_object_unref(image) }
        let loader =
            bytes.withUnsafeBytes { vips_foreign_find_load_buffer($0.baseAddress, $0.count) }.map {
                String(cString: $0)
            } ?? "?"
        let format: String
        switch loader {
        case let name where name.hasPrefix("VipsForeignLoadJpeg"): format = "jpeg"
        case let name where name.hasPrefix("VipsForeignLoadWebp"): format = "webp"
        case let name where name.hasPrefix("VipsForeignLoadPng"): format = "png"
        case let name where name.hasPrefix("VipsForeignLoadHeif"): format = "heif"
        default: format = loader
        }
        return (format, Int(vips_image_get_width(image)), Int(vips_image_get_height(image)))
    }
}
