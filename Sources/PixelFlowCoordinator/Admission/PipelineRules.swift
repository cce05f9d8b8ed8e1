import Foundation
import NIOCore
import PixelFlowPipeline
import PixelFlowProtocol

/// The imaging engine's validation rules, applied before a job is queued: the same decoder the workers run,
/// without libvips. A pipeline the engine would refuse is REJECTED(invalid_pipeline) naming the field.
public enum PipelineRules {
    @Sendable public static func validate(_ json: ByteBuffer) -> Result<Int, ProtocolError> {
        do throws(PipelineError) {
            return .success(try PipelineCache.shared.decode(wire: Data(json.readableBytesView)).variants.count)
        } catch {
            return .failure(ProtocolError(.invalidPipeline, error.description))
        }
    }
}
