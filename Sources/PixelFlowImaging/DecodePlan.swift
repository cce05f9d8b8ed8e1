import PixelFlowPipeline

/// How much the source can be shrunk while it is decoded, so that every variant is still derived by
/// downscaling (or from native pixels when a variant needs them).
struct DecodePlan: Equatable {
    /// Decoded size relative to the oriented source, in (0, 1].
    let scale: Double
    /// The box handed to the shrink-on-load decoder.
    let boxWidth: Int
    let boxHeight: Int

    init(pipeline: Pipeline, sourceWidth: Int, sourceHeight: Int) {
        let needed = pipeline.variants.map {
            Self.scaleNeeded(by: $0, sourceWidth: sourceWidth, sourceHeight: sourceHeight)
        }
        scale = min(1, needed.max() ?? 1)
        // The epsilon keeps `w / W * W` from rounding up to w + 1.
        boxWidth = max(1, Int((Double(sourceWidth) * scale - 1e-6).rounded(.up)))
        boxHeight = max(1, Int((Double(sourceHeight) * scale - 1e-6).rounded(.up)))
    }

    /// The smallest decode scale from which `variant` is made without upscaling (capped at 1: native size).
    static func scaleNeeded(by variant: VariantSpec, sourceWidth: Int, sourceHeight: Int) -> Double {
        let width = Double(sourceWidth)
        let height = Double(sourceHeight)
        let needed: Double
        switch variant.action {
        case .resize:
            needed = fit(boxWidth: variant.width, boxHeight: variant.height, width: width, height: height)
        case .contain:
            needed = fit(boxWidth: variant.width, boxHeight: variant.height, width: width, height: height)
        case .cover:
            needed = max(Double(variant.width ?? sourceWidth) / width, Double(variant.height ?? sourceHeight) / height)
        case .crop:
            guard let rect = variant.crop, variant.width != nil || variant.height != nil else { return 1 }
            let cropWidth = Double(min(rect.width, max(1, sourceWidth - rect.x)))
            let cropHeight = Double(min(rect.height, max(1, sourceHeight - rect.y)))
            needed = fit(boxWidth: variant.width, boxHeight: variant.height, width: cropWidth, height: cropHeight)
        }
        return min(1, needed)
    }

    private static func fit(boxWidth: Int?, boxHeight: Int?, width: Double, height: Double) -> Double {
        let horizontal = boxWidth.map { Double($0) / width } ?? .infinity
        let vertical = boxHeight.map { Double($0) / height } ?? .infinity
        let scale = min(horizontal, vertical)
        return scale.isFinite ? scale : 1
    }
}
