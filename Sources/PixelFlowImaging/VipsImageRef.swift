import CVipsShim

/// Owns one reference to a `VipsImage` and drops it when released.
///
/// Confined to the libvips thread running the job; never shared across threads.
final class VipsImageRef {
    let pointer: UnsafeMutablePointer<VipsImage>

    init(owning pointer: UnsafeMutablePointer<VipsImage>) {
        self.pointer = pointer
    }

    deinit {
        g_object_unref(UnsafeMutableRawPointer(pointer))
    }

    var width: Int { Int(vips_image_get_width(pointer)) }
    var height: Int { Int(vips_image_get_height(pointer)) }
    var bands: Int { Int(vips_image_get_bands(pointer)) }
    var hasAlpha: Bool { vips_image_hasalpha(pointer) != 0 }
    var interpretation: VipsInterpretation { vips_image_get_interpretation(pointer) }
    var bandFormat: VipsBandFormat { vips_image_get_format(pointer) }

    func hasField(_ name: String) -> Bool { vips_image_get_typeof(pointer, name) != 0 }

    /// An integer metadata field, nil when absent.
    func int(_ name: String) -> Int? {
        // Asking for an absent field would leave a message in libvips' error buffer.
        guard hasField(name) else { return nil }
        var value: Int32 = 0
        return vips_image_get_int(pointer, name, &value) == 0 ? Int(value) : nil
    }

    /// Runs a libvips operation that writes a new image into its out-parameter.
    static func make(
        _ operation: String, _ body: (UnsafeMutablePointer<UnsafeMutablePointer<VipsImage>?>) -> Int32
    ) throws(VipsFailure) -> VipsImageRef {
        var out: UnsafeMutablePointer<VipsImage>?
        let status = body(&out)
        guard status == 0, let image = out else {
            if let image = out { g_object_unref(UnsafeMutableRawPointer(image)) }
            throw VipsFailure(operation)
        }
        return VipsImageRef(owning: image)
    }

    /// Applies `operation` to this image.
    func apply(
        _ operation: String,
        _ body: (UnsafeMutablePointer<VipsImage>, UnsafeMutablePointer<UnsafeMutablePointer<VipsImage>?>) -> Int32
    ) throws(VipsFailure) -> VipsImageRef {
        try Self.make(operation) { out in body(pointer, out) }
    }

    /// Renders the (lazy) pipeline behind this image into memory, so it can be read more than once.
    func copiedToMemory() throws(VipsFailure) -> VipsImageRef {
        guard let copy = vips_image_copy_memory(pointer) else { throw VipsFailure("copy_memory") }
        return VipsImageRef(owning: copy)
    }

    /// Removes the metadata fields that carry EXIF, XMP, IPTC and the ICC profile.
    /// Only call on an image this job created and nobody else reads.
    func removeMetadata() {
        for field in ["exif-data", "xmp-data", "iptc-data", "icc-profile-data"] {
            _ = vips_image_remove(pointer, field)
        }
    }
}
