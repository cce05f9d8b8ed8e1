import Foundation
import NIOCore
import PixelFlowPipeline
import PixelFlowProtocol

/// The imaging engine's validation rules, applied before a job is queued: the same decoder the workers run,
/// without libvips. A pipeline the engine would refuse is REJECTED(invalid_pipeline) naming the field.
public enum PipelineRules {
    @Sendable public static func validate(_ json: ByteBuffer) -> Result<PipelineSummary, ProtocolError> {
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
