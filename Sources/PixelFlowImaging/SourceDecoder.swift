import CVipsShim
import PixelFlowPipeline

/// Decodes the source once: shrink-on-load to the plan's box, EXIF orientation applied, colour converted
/// to 8-bit sRGB (or 8-bit grey), first frame only, then rendered to memory so every variant can read it.
enum SourceDecoder {
    static func decode(
        _ bytes: UnsafeRawBufferPointer, header: SourceHeader, plan: DecodePlan, control: JobControl
    ) throws(ImagingError) -> VipsImageRef {
        do {
            // thumbnail_buffer picks the loader's shrink-on-load (JPEG DCT scaling, WebP scaling, HEIF
            // thumbnails), auto-rotates by EXIF and converts CMYK (embedded profile or libvips' fallback
            // CMYK profile) to sRGB. An RGB or grey image's embedded profile is only kept attached, so
            // `srgbFromEmbeddedProfile` converts it below: stripping it unconverted would shift the colours.
            let decoded = try VipsImageRef.make("thumbnail_buffer") { out in
                pf_thumbnail_buffer(
                    bytes.baseAddress, bytes.count, out, Int32(plan.boxWidth), Int32(plan.boxHeight),
                    Int32(VIPS_SIZE_DOWN.rawValue), "fail_on=truncated", nil)
            }
            control.watch(decoded)
            let normalised = try toEightBitDisplaySpace(srgbFromEmbeddedProfile(decoded, header: header))
            // The thumbnail is a sequential pipeline over the source bytes: it can be read only once
            // (DESIGN §9), so render it to memory before deriving several variants from it.
            let base = try normalised.copiedToMemory()
            // The decode pipeline (and the loader's buffers, e.g. a whole decoded HEIF) can go now.
            control.unwatch(decoded)
            // Pixels are sRGB now; a leftover profile would make every variant convert sRGB to sRGB again.
            base.removeMetadata()
            control.watch(base)
            return base
        } catch {
            try control.throwIfStopped()
            throw ImagingError(.undecodableImage, "cannot decode the image: \(error.message)")
        }
    }

    /// Converts a non-CMYK image that carries an ICC profile to sRGB (relative colorimetric).
    static func srgbFromEmbeddedProfile(_ image: VipsImageRef, header: SourceHeader) throws(VipsFailure) -> VipsImageRef
    {
        guard header.hasProfile, !header.isCMYK, image.hasField("icc-profile-data") else { return image }
        return try image.apply("icc_transform") { input, out in pf_icc_transform(input, out, "srgb", 1) }
    }

    /// 16-bit, CMYK left without a profile, LAB and the like become 8-bit sRGB; grey stays grey.
    static func toEightBitDisplaySpace(_ image: VipsImageRef) throws(VipsFailure) -> VipsImageRef {
        let grey = image.interpretation == VIPS_INTERPRETATION_B_W || image.interpretation == VIPS_INTERPRETATION_GREY16
        let target = grey ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB
        var result = image
        if image.interpretation != target || image.bandFormat != VIPS_FORMAT_UCHAR {
            result = try result.apply("colourspace") { input, out in pf_colourspace(input, out, Int32(target.rawValue))
            }
        }
        if result.bandFormat != VIPS_FORMAT_UCHAR {
            result = try result.apply("cast") { input, out in pf_cast(input, out, Int32(VIPS_FORMAT_UCHAR.rawValue)) }
        }
        return result
    }
}
