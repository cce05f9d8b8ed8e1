/// The ordered variants of one job. Ids are unique; there are 1 to ``Pipeline/maxVariants`` of them.
public struct Pipeline: Sendable, Equatable {
    public static let maxVariants = 16
    /// Largest output width or height accepted in a spec.
    public static let maxSide = 16_384

    public let variants: [VariantSpec]

    /// Validates the pipeline-level rules (count, unique ids); specs from ``PipelineDecoder`` are already valid.
    public init(_ variants: [VariantSpec]) throws(PipelineError) {
        guard !variants.isEmpty else { throw PipelineError(field: "pipeline", "must contain at least one variant") }
        guard variants.count <= Self.maxVariants else {
            throw PipelineError(
                field: "pipeline", "has \(variants.count) variants, at most \(Self.maxVariants) are allowed")
        }
        var seen = Set<String>()
        for (index, variant) in variants.enumerated() where !seen.insert(variant.id).inserted {
            throw PipelineError(field: "pipeline[\(index)].id", "duplicate id \"\(variant.id)\"")
        }
        self.variants = variants
    }

    /// DESIGN §10: `thumb` 150 wide WebP q80, `medium` 800 wide JPEG q85, `large` 1600 wide WebP q75.
    public static let canonical: Pipeline = try! Pipeline([
        VariantSpec(id: "thumb", action: .resize, width: 150, format: .webp, quality: 80),
        VariantSpec(id: "medium", action: .resize, width: 800, format: .jpeg, quality: 85),
        VariantSpec(id: "large", action: .resize, width: 1600, format: .webp, quality: 75),
    ])

    /// The canonical pipeline with `large` as AVIF at the default (lowest) effort.
    public static let canonicalAVIF: Pipeline = try! Pipeline([
        VariantSpec(id: "thumb", action: .resize, width: 150, format: .webp, quality: 80),
        VariantSpec(id: "medium", action: .resize, width: 800, format: .jpeg, quality: 85),
        VariantSpec(id: "large", action: .resize, width: 1600, format: .avif, quality: 50),
    ])
}
