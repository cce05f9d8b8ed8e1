import CVipsShim
import PixelFlowPipeline

/// Derives one variant's pixels from the decoded base image: the sizing action, then rotate, flip, flop,
/// blur and sharpen, in that order.
struct VariantRenderer {
    /// The decoded base, at `scale` of the oriented source.
    let base: VipsImageRef
    let header: SourceHeader

    /// `VIPS_MAX_COORD`: "no limit" for the unconstrained side of a box.
    private static let unbounded: Int32 = 10_000_000

    func render(_ spec: VariantSpec) throws(VipsFailure) -> VipsImageRef {
        var image = try sized(spec)
        switch spec.rotate {
        case .none: break
        case .quarter:
            image = try image.apply("rot") { input, out in pf_rot(input, out, Int32(VIPS_ANGLE_D90.rawValue)) }
        case .half: image = try image.apply("rot") { input, out in pf_rot(input, out, Int32(VIPS_ANGLE_D180.rawValue)) }
        case .threeQuarters:
            image = try image.apply("rot") { input, out in pf_rot(input, out, Int32(VIPS_ANGLE_D270.rawValue)) }
        }
        if spec.flip {
            image = try image.apply("flip") { input, out in pf_flip(input, out, Int32(VIPS_DIRECTION_VERTICAL.rawValue))
            }
        }
        if spec.flop {
            image = try image.apply("flip") { input, out in
                pf_flip(input, out, Int32(VIPS_DIRECTION_HORIZONTAL.rawValue))
            }
        }
        if let sigma = spec.blur {
            image = try image.apply("gaussblur") { input, out in pf_gaussblur(input, out, sigma) }
        }
        if let sigma = spec.sharpen {
            image = try image.apply("sharpen") { input, out in pf_sharpen(input, out, sigma) }
            // sharpen works in LabS and may hand back 16-bit; encoders want 8-bit.
            image = try SourceDecoder.toEightBitDisplaySpace(image)
        }
        return image
    }

    private func sized(_ spec: VariantSpec) throws(VipsFailure) -> VipsImageRef {
        let size = Int32((spec.enlarge ? VIPS_SIZE_BOTH : VIPS_SIZE_DOWN).rawValue)
        let width = spec.width.map(Int32.init) ?? Self.unbounded
        let height = spec.height.map(Int32.init) ?? Self.unbounded
        switch spec.action {
        case .resize:
            return try thumbnail(base, width, height, size, VIPS_INTERESTING_NONE)
        case .cover:
            return try thumbnail(base, width, height, size, interesting(spec.gravity))
        case .contain:
            let fitted = try thumbnail(base, width, height, size, VIPS_INTERESTING_NONE)
            return try pad(fitted, toWidth: Int(width), height: Int(height), spec: spec)
        case .crop:
            let region = try cropped(spec)
            guard spec.width != nil || spec.height != nil else { return region }
            return try thumbnail(region, width, height, size, VIPS_INTERESTING_NONE)
        }
    }

    private func thumbnail(
        _ image: VipsImageRef, _ width: Int32, _ height: Int32, _ size: Int32, _ crop: VipsInteresting
    ) throws(VipsFailure) -> VipsImageRef {
        try image.apply("thumbnail_image") { input, out in
            pf_thumbnail_image(input, out, width, height, size, Int32(crop.rawValue))
        }
    }

    private func interesting(_ gravity: Gravity) -> VipsInteresting {
        switch gravity {
        case .centre: VIPS_INTERESTING_CENTRE
        case .attention: VIPS_INTERESTING_ATTENTION
        case .entropy: VIPS_INTERESTING_ENTROPY
        }
    }

    /// The crop rectangle is in oriented source pixels; the base may have been shrunk on load.
    private func cropped(_ spec: VariantSpec) throws(VipsFailure) -> VipsImageRef {
        guard let rect = spec.crop else { return base }
        let scaleX = Double(base.width) / Double(header.orientedWidth)
        let scaleY = Double(base.height) / Double(header.orientedHeight)
        let left = min(base.width - 1, Int((Double(rect.x) * scaleX).rounded(.down)))
        let top = min(base.height - 1, Int((Double(rect.y) * scaleY).rounded(.down)))
        let width = max(1, min(base.width - left, Int((Double(rect.width) * scaleX).rounded())))
        let height = max(1, min(base.height - top, Int((Double(rect.height) * scaleY).rounded())))
        return try base.apply("extract_area") { input, out in
            pf_extract_area(input, out, Int32(left), Int32(top), Int32(width), Int32(height))
        }
    }

    /// Centres `image` on a `width` × `height` canvas. The default fill is transparent when both the image
    /// and the output format have alpha, white otherwise.
    private func pad(
        _ image: VipsImageRef, toWidth width: Int, height: Int, spec: VariantSpec
    ) throws(VipsFailure) -> VipsImageRef {
        var image = image
        if image.bands < 3 {
            image = try image.apply("colourspace") { input, out in
                pf_colourspace(input, out, Int32(VIPS_INTERPRETATION_sRGB.rawValue))
            }
        }
        let colour = spec.background ?? .white
        var fill = [Double(colour.red), Double(colour.green), Double(colour.blue)]
        if image.hasAlpha {
            fill = spec.background == nil && spec.format.hasAlpha ? [0, 0, 0, 0] : fill + [255]
        }
        let canvasWidth = max(width, image.width)
        let canvasHeight = max(height, image.height)
        return try image.apply("gravity") { input, out in
            pf_gravity(
                input, out, Int32(VIPS_COMPASS_DIRECTION_CENTRE.rawValue), Int32(canvasWidth), Int32(canvasHeight),
                fill, Int32(fill.count))
        }
    }
}
