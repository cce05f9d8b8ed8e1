import NIOCore
import PixelFlowLocking
import PixelFlowProtocol
import Testing

@testable import PixelFlowCoordinator

/// Pipelines are validated once per distinct bytes; the cache stays within its capacity.
@Suite struct PipelineSummaryCacheTests {
    @Test func theSameBytesAreValidatedOnceWhereverTheyCameFrom() {
        let cache = PipelineSummaryCache(capacity: 4)
        let computed = Locked(0)
        func summarize(_ json: ByteBuffer) -> Result<PipelineSummary, ProtocolError> {
            computed.withLock { $0 += 1 }
            return .success(PipelineSummary(variantCount: json.readableBytes))
        }
        let frame = ByteBuffer(string: "xx[{\"id\":\"a\"}]yy")
        let slice = frame.getSlice(at: 2, length: 12)!  // the pipeline inside a larger buffer
        #expect(cache.summary(of: slice, orCompute: summarize) == .success(PipelineSummary(variantCount: 12)))
        #expect(
            cache.summary(of: ByteBuffer(string: "[{\"id\":\"a\"}]"), orCompute: summarize)
                == .success(PipelineSummary(variantCount: 12)))
        #expect(computed.withLock { $0 } == 1)
    }

    @Test func theOldestAreForgottenBeyondTheCapacity() {
        let cache = PipelineSummaryCache(capacity: 4)
        let computed = Locked(0)
        func summarize(_ json: ByteBuffer) -> Result<PipelineSummary, ProtocolError> {
            computed.withLock { $0 += 1 }
            return .failure(ProtocolError(.invalidPipeline, "bad"))
        }
        for index in 0..<100 { _ = cache.summary(of: ByteBuffer(string: "p\(index)"), orCompute: summarize) }
        #expect(cache.count == 4)
        _ = cache.summary(of: ByteBuffer(string: "p99"), orCompute: summarize)  // still remembered
        #expect(computed.withLock { $0 } == 100)
        _ = cache.summary(of: ByteBuffer(string: "p0"), orCompute: summarize)  // long forgotten
        #expect(computed.withLock { $0 } == 101)
    }
}
