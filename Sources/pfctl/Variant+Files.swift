import PixelFlowBatch
import PixelFlowClient
import PixelFlowPipeline

extension VariantFiles {
    /// Writes a variant from the cluster as the batch layout says (`DIR/<folder>/<variant-id>.<ext>`) and returns
    /// its JSON-line entry: what `pfctl process` and `pfctl fetch` both do with each variant.
    static func write(_ variant: Variant, for source: BatchSource) throws(WriteError) -> SourceResult.Variant {
        let fileExtension = OutputFormat(name: variant.format)?.fileExtension ?? variant.format
        let path = try write(variant.bytes, for: source, variantID: variant.id, fileExtension: fileExtension)
        return SourceResult.Variant(
            id: variant.id, path: path, width: variant.width, height: variant.height, format: variant.format,
            bytes: variant.bytes.count, milliseconds: Double(variant.elapsedMilliseconds))
    }
}
