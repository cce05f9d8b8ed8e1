import Foundation
import PixelFlowBatch
import PixelFlowClient
import PixelFlowPipeline

/// `pfctl process`'s "process one source" step: upload it through the cluster, write each variant the moment it
/// arrives, retry rate-limited submissions per the policy.
struct ClusterSource: Sendable {
    let client: PixelFlowClient
    let pipelineJSON: String
    let retry: RetryPolicy

    func process(_ source: BatchSource) async -> SourceResult {
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: source.path)))
        } catch {
            return SourceResult(
                source: source.path, bytesIn: 0, variants: [],
                failure: .init(code: "io_error", message: "cannot read the source: \(error.localizedDescription)"))
        }
        do {
            try VariantFiles.prepare(source)
        } catch {
            return SourceResult(
                source: source.path, bytesIn: bytes.count, variants: [],
                failure: .init(code: "io_error", message: error.message))
        }
        var retries = 0
        while true {
            var variants: [SourceResult.Variant] = []
            do {
                for try await event in client.process(source: bytes, pipeline: pipelineJSON) {
                    guard case .variant(let variant) = event else { continue }
                    variants.append(try VariantFiles.write(variant, for: source))
                }
                return SourceResult(
                    source: source.path, bytesIn: bytes.count, variants: variants, failure: nil, retries: retries)
            } catch let error as PixelFlowClientError {
                if let delay = retry.delay(after: error, retriesSoFar: retries) {
                    retries += 1
                    try? await Task.sleep(for: delay)
                    continue
                }
                return SourceResult(
                    source: source.path, bytesIn: bytes.count, variants: variants,
                    failure: .init(code: error.name, message: error.message), retries: retries)
            } catch let error as VariantFiles.WriteError {
                return SourceResult(
                    source: source.path, bytesIn: bytes.count, variants: variants,
                    failure: .init(code: "io_error", message: error.message), retries: retries)
            } catch {
                return SourceResult(
                    source: source.path, bytesIn: bytes.count, variants: variants,
                    failure: .init(code: "internal", message: "\(error)"), retries: retries)
            }
        }
    }
}
