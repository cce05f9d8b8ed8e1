import Testing
@testable import PixelFlowImaging
import PixelFlowPipeline

extension ImagingTests {
    /// After a batch of jobs, successful and failed, libvips holds no more objects or pixel memory than before.
    @Suite struct LeakTests {
        @Test func batchReturnsToBaseline() async throws {
            let good = Fixtures.encode(Fixtures.noise(width: 300, height: 200), as: .jpeg)
            let truncated = Array(good.prefix(good.count / 2))
            let pipeline = try PipelineDecoder.decode(compact: [
                "a:resize:150:webp", "b:cover:64x64:jpeg:gravity=attention", "c:contain:80x80:png", "d:crop:40:avif:crop=10,10,100,100",
            ])
            func batch() async throws {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<24 {
                        group.addTask {
                            let source = index % 3 == 2 ? truncated : good
                            _ = try? await sharedEngine.process(source: source, pipeline: pipeline)
                        }
                    }
                    try await group.waitForAll()
                }
                _ = await failureCode(sharedEngine, PNGBytes.declaring(width: 65535, height: 65535))
            }
            // libvips frees a killed job's per-thread regions and buffers only when that thread next
            // evaluates something (an earlier test cancels a job), so warm every thread up first.
            try await batch()
            let (objectsBefore, memoryBefore) = await Self.settledCounters()

            try await batch()

            #expect(VipsRuntime.liveObjectCount == objectsBefore)
            #expect(VipsRuntime.trackedMemory == memoryBefore)
        }

        /// The counters once they have not moved for 100 ms (or after 5 s).
        static func settledCounters() async -> (objects: Int, memory: Int) {
            var last = (VipsRuntime.liveObjectCount, VipsRuntime.trackedMemory)
            for _ in 0..<50 {
                try? await Task.sleep(for: .milliseconds(100))
                let now = (VipsRuntime.liveObjectCount, VipsRuntime.trackedMemory)
                if now == last { return now }
                last = now
            }
            return last
        }
    }
}
