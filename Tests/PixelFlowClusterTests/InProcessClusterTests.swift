import Foundation
import PixelFlowClient
import Testing

extension LiveCluster {
    /// The coordinator and workers as services inside the test process, talked to over real loopback sockets by
    /// the client library, with real libvips.
    @Suite("In-process cluster", .timeLimit(.minutes(2)))
    struct InProcessClusterTests {
        static let pipeline =
            #"[{"id":"small","action":"resize","width":64,"format":"webp"},"#
            + #"{"id":"large","action":"resize","width":320,"format":"png"}]"#

        @Test("a job through an in-process coordinator and worker: both variants, decodable, at their sizes")
        func job() async throws {
            let source = TestImages.jpeg(width: 640, height: 480)
            let variants = try await InProcessCluster.with { cluster in
                try await PixelFlowClient.withConnection(
                    to: "127.0.0.1", port: cluster.port, keyID: "acme", secret: InProcessCluster.tenantSecret
                ) { client in
                    var variants: [String: [UInt8]] = [:]
                    for try await event in client.process(source: source, pipeline: Self.pipeline) {
                        if case .variant(let variant) = event { variants[variant.id] = variant.bytes }
                    }
                    return variants
                }
            }
            #expect(TestImages.inspect(variants["small"] ?? [])?.width == 64)
            #expect(TestImages.inspect(variants["small"] ?? [])?.format == "webp")
            #expect(TestImages.inspect(variants["large"] ?? [])?.width == 320)
        }

        @Test("graceful shutdown in order: jobs admitted before it finish on the running workers, new ones are refused")
        func gracefulShutdown() async throws {
            let source = TestImages.jpeg(width: 1600, height: 1200)
            // Without reconnecting: a reconnecting client would wait for the coordinator to come back instead.
            var configuration = PixelFlowClient.Configuration()
            configuration.reconnect = nil
            try await InProcessCluster.with(slots: 1) { cluster in
                try await PixelFlowClient.withConnection(
                    to: "127.0.0.1", port: cluster.port, keyID: "acme", secret: InProcessCluster.tenantSecret,
                    configuration: configuration
                ) { client in
                    // Four jobs on one slot: most of them are still queued when the shutdown starts.
                    let jobs = (0..<4).map { _ in client.process(source: source, pipeline: Self.pipeline) }
                    var accepted = 0
                    var iterators = jobs.map { $0.makeAsyncIterator() }
                    for index in iterators.indices {
                        if case .accepted = try await iterators[index].next() { accepted += 1 }
                    }
                    #expect(accepted == 4)
                    let doneBefore = cluster.coordinator.coordinator.stats.total.succeeded
                    #expect(doneBefore < 4, "some jobs are still queued or running when the shutdown starts")
                    await cluster.shutDown()
                    var completed = 0
                    for index in iterators.indices {
                        while let event = try await iterators[index].next() {
                            if case .completed = event { completed += 1 }
                        }
                    }
                    #expect(completed == 4, "every admitted job finishes during the shutdown")
                    await #expect(throws: PixelFlowClientError.self) {
                        for try await _ in client.process(source: source, pipeline: Self.pipeline) {}
                    }
                }
            }
        }
    }
}
