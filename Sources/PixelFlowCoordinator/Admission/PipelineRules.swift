import Foundation
import NIOCore
import PixelFlowLocking
import PixelFlowPipeline
import PixelFlowProtocol

/// The imaging engine's validation rules, applied before a job is queued: the same decoder the workers run,
/// without libvips. A pipeline the engine would refuse is REJECTED(invalid_pipeline) naming the field.
public enum PipelineRules {
    /// Validation is remembered by the pipeline's bytes, looked up without copying them: jobs of one workload
    /// repeat the same few pipelines, and a copy into `Data` per SUBMIT was a visible share of a small job's cost.
    private static let summaries = PipelineSummaryCache(capacity: 256)

    @Sendable public static func validate(_ json: ByteBuffer) -> Result<PipelineSummary, ProtocolError> {
        summaries.summary(of: json, orCompute: summarize)
    }

    private static func summarize(_ json: ByteBuffer) -> Result<PipelineSummary, ProtocolError> {
        do throws(PipelineError) {
            let pipeline = try PipelineCache.shared.decode(wire: Data(json.readableBytesView))
            let formats = pipeline.variants.reduce(into: OutputFormats()) {
                $0.formUnion(OutputFormats(name: $1.format.rawValue) ?? [])
            }
            return .success(PipelineSummary(variantCount: pipeline.variants.count, formats: formats))
        } catch {
            return .failure(ProtocolError(.invalidPipeline, error.description))
        }
    }
}

/// Summaries of recently seen pipelines, by their wire bytes (a `RecentMap`: the oldest forgotten first).
final class PipelineSummaryCache: Sendable {
    private let entries: Locked<RecentMap<ByteBuffer, Result<PipelineSummary, ProtocolError>>>

    init(capacity: Int) { entries = Locked(RecentMap(capacity: capacity)) }

    func summary(
        of json: ByteBuffer, orCompute compute: (ByteBuffer) -> Result<PipelineSummary, ProtocolError>
    ) -> Result<PipelineSummary, ProtocolError> {
        if let known = entries.withLock({ $0[json] }) { return known }
        let result = compute(json)
        // A key of its own: a slice of a frame would keep the whole read buffer alive.
        let key = ByteBuffer(bytes: json.readableBytesView)
        entries.withLock { $0.insert(result, for: key) }
        return result
    }

    var count: Int { entries.withLock { $0.count } }
}

/// What admission and scheduling need to know of a valid pipeline.
public struct PipelineSummary: Sendable, Hashable {
    public var variantCount: Int
    /// The formats it encodes: only a worker that advertised all of them is given the job.
    public var formats: OutputFormats

    public init(variantCount: Int, formats: OutputFormats = []) {
        self.variantCount = variantCount
        self.formats = formats
    }
}
