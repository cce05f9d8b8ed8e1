import Foundation
import PixelFlowClient
import PixelFlowProtocol
import Synchronization
import Testing

extension LiveCluster {
    /// Jobs through real `pixelflow` processes: a coordinator and two workers on loopback ports.
    @Suite("Jobs through a live cluster", .serialized)
    struct ClusterJobTests {
        static let pipeline =
            #"[{"id":"thumb","action":"resize","width":120,"format":"webp","quality":80},{"id":"medium","action":"resize","width":400,"format":"jpeg","quality":85},{"id":"square","action":"cover","width":64,"height":64,"format":"png"}]"#

        static func startCluster(tenants: [[String: Any]]? = nil, workers: Int = 2) async throws -> ClusterProcesses {
            let cluster = try ClusterProcesses(tenants: tenants)
            try cluster.startCoordinator()
            for index in 1...workers { try cluster.startWorker("w\(index)") }
            try await cluster.waitForWorkers(workers)
            return cluster
        }

        static func connect<Result: Sendable>(
            _ cluster: ClusterProcesses, keyID: String = "acme", secret: String = ClusterProcesses.tenantSecret,
            _ body: (PixelFlowClient) async throws -> Result
        ) async throws -> Result {
            try await PixelFlowClient.withConnection(
                to: "127.0.0.1", port: cluster.port, keyID: keyID, secret: secret, body)
        }

        /// Runs one job to the end; returns its variants (by arrival) and the arrival times.
        static func run(
            _ client: PixelFlowClient, source: [UInt8], pipeline: String = pipeline
        ) async throws -> (
            variants: [Variant], variantTimes: [ContinuousClock.Instant], completed: ContinuousClock.Instant
        ) {
            var variants: [Variant] = []
            var times: [ContinuousClock.Instant] = []
            for try await event in client.process(source: source, pipeline: pipeline) {
                switch event {
                case .accepted: continue
                case .variant(let variant):
                    variants.append(variant)
                    times.append(.now)
                case .completed:
                    return (variants, times, .now)
                }
            }
            throw ClusterProcesses.Failure("the job's events ended without completion")
        }

        @Test(
            "real images through the cluster: right sizes and formats, each variant streamed before the job completes")
        func realImages() async throws {
            let cluster = try await Self.startCluster()
            let sources = [
                TestImages.jpeg(width: 1200, height: 800), TestImages.jpeg(width: 640, height: 960, seed: 3),
            ]
            try await Self.connect(cluster) { client in
                for source in sources {
                    let result = try await Self.run(client, source: source)
                    let byID = Dictionary(uniqueKeysWithValues: result.variants.map { ($0.id, $0) })
                    #expect(Set(byID.keys) == ["thumb", "medium", "square"])
                    let original = try #require(TestImages.inspect(source))
                    for (id, format, width) in [("thumb", "webp", 120), ("medium", "jpeg", 400), ("square", "png", 64)]
                    {
                        let variant = try #require(byID[id])
                        let seen = try #require(TestImages.inspect(variant.bytes), "\(id) is not a readable image")
                        #expect(seen.format == format && variant.format == format)
                        #expect(seen.width == width && variant.width == width)
                        let expectedHeight =
                            id == "square"
                            ? 64 : Int((Double(original.height) * Double(width) / Double(original.width)).rounded())
                        #expect(abs(seen.height - expectedHeight) <= 1 && seen.height == variant.height)
                    }
                }
                // Streaming: the last variant is slow on purpose (AVIF at the highest effort), so the first one must
                // reach the client well before the job completes — not batched with the rest.
                let slowPipeline =
                    #"[{"id":"thumb","action":"resize","width":120,"format":"webp"},{"id":"slow","action":"resize","width":800,"format":"avif","effort":4}]"#
                let streamed = try await Self.run(
                    client, source: TestImages.jpeg(width: 1600, height: 1200, seed: 5), pipeline: slowPipeline)
                #expect(streamed.variants.map(\.id) == ["thumb", "slow"])
                let slowEncode = Duration.milliseconds(streamed.variants[1].elapsedMilliseconds)
                let headStart = streamed.completed - streamed.variantTimes[0]
                // Batched delivery would put the two within microseconds; 100 ms apart means the thumb was sent on its own.
                #expect(
                    headStart > .milliseconds(100),
                    "thumb arrived \(headStart) before completion; the slow variant took \(slowEncode) to encode")
            }
        }

        @Test("a long-lived client: connect, use from several tasks, close")
        func connectAndClose() async throws {
            let cluster = try await Self.startCluster(workers: 1)
            let client = try await PixelFlowClient.connect(
                to: "127.0.0.1", port: cluster.port, keyID: "acme", secret: ClusterProcesses.tenantSecret)
            let source = TestImages.jpeg(width: 320, height: 240)
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 { group.addTask { try await Self.run(client, source: source).variants.count } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(counts == [3, 3, 3, 3])
            #expect(try await client.workers().count == 1)
            await client.close()
            await #expect(throws: PixelFlowClientError.self) { try await client.stats() }
            await #expect(throws: PixelFlowClientError.self) {
                try await PixelFlowClient.connect(
                    to: "127.0.0.1", port: cluster.port, keyID: "acme", secret: "wrong-secret-wrong-secret")
            }
        }

        @Test("kill -9 of a worker with 100 jobs in flight: 100/100 complete, none lost, no variant delivered twice")
        func workerKilled() async throws {
            let cluster = try await Self.startCluster()
            let sources = (0..<4).map { TestImages.jpeg(width: 800, height: 600, seed: $0) }
            let completed = Counter()
            let pipeline =
                #"[{"id":"thumb","action":"resize","width":160,"format":"webp"},{"id":"medium","action":"resize","width":480,"format":"jpeg"}]"#
            let outcomes = try await Self.connect(cluster) { client in
                try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
                    for index in 0..<100 {
                        group.addTask {
                            let result = try await Self.run(
                                client, source: sources[index % sources.count], pipeline: pipeline)
                            completed.increment()
                            return (index, result.variants.map(\.id))
                        }
                    }
                    group.addTask {
                        // Kill a worker once the batch is well under way.
                        let deadline = ContinuousClock.now + .seconds(60)
                        while completed.value < 10 && ContinuousClock.now < deadline {
                            try await Task.sleep(for: .milliseconds(5))
                        }
                        cluster.signal(worker: "w1", SIGKILL)
                        return (-1, [])
                    }
                    var outcomes: [Int: [String]] = [:]
                    for try await (index, ids) in group where index >= 0 { outcomes[index] = ids }
                    return outcomes
                }
            }
            #expect(outcomes.count == 100, "jobs lost: \(100 - outcomes.count)")
            let duplicates = outcomes.values.reduce(0) { $0 + ($1.count - Set($1).count) }
            #expect(duplicates == 0)
            #expect(outcomes.values.allSatisfy { Set($0) == ["thumb", "medium"] })
            #expect(await cluster.waitForExit(worker: "w1", timeout: .seconds(1)))
            // Results of re-run attempts that were already delivered are dropped and counted, never sent again.
            let discarded = try #require(
                try await cluster.metric("pixelflow_results_discarded_total"), "the metric is missing")
            print(
                "kill -9 test: 100/100 complete, duplicates delivered 0, results discarded by the coordinator \(Int(discarded))"
            )
        }

        @Test(
            "rate 5/s, burst 10: of 50 jobs at once 10 are admitted, the rest rejected with a consistent retry_after; another tenant is unaffected"
        )
        func rateLimited() async throws {
            let cluster = try await Self.startCluster(tenants: [
                ["key_id": "limited", "secret": ClusterProcesses.tenantSecret, "rate": 5, "burst": 10],
                ["key_id": "other", "secret": ClusterProcesses.otherSecret, "rate": 1000, "burst": 1000],
            ])
            let source = TestImages.jpeg(width: 320, height: 240)
            let started = ContinuousClock.now
            let results = try await Self.connect(cluster, keyID: "limited") { client in
                try await withThrowingTaskGroup(of: Result<JobID, PixelFlowClientError>.self) { group in
                    for _ in 0..<50 {
                        group.addTask {
                            do throws(PixelFlowClientError) {
                                return .success(try await client.submit(source: source, pipeline: Self.pipeline))
                            } catch {
                                return .failure(error)
                            }
                        }
                    }
                    var results: [Result<JobID, PixelFlowClientError>] = []
                    for try await result in group { results.append(result) }
                    return results
                }
            }
            let elapsed = ContinuousClock.now - started
            let admitted = results.filter { if case .success = $0 { true } else { false } }.count
            // The bucket refills at 5/s: only time spent sending the 50 can add admissions.
            let refilled = Int(
                Double(elapsed.components.attoseconds) / 1e18 * 5 + Double(elapsed.components.seconds) * 5)
            #expect(admitted >= 10 && admitted <= 10 + refilled, "admitted \(admitted) in \(elapsed)")
            for case .failure(let error) in results {
                guard error.code == .rejected, error.rejectionReason == .rateLimited, let retryAfter = error.retryAfter
                else {
                    Issue.record("expected rate_limited with retry_after, got \(error)")
                    continue
                }
                #expect(retryAfter > .zero && retryAfter <= .milliseconds(200))
            }
            // Meanwhile the other tenant gets its jobs done.
            let other = try await Self.connect(cluster, keyID: "other", secret: ClusterProcesses.otherSecret) {
                client in
                try await Self.run(client, source: source)
            }
            #expect(other.variants.count == 3)
        }

        @Test("SIGTERM on a worker mid-batch: it finishes or hands back its tasks and exits; nothing is lost")
        func workerTerminated() async throws {
            let cluster = try await Self.startCluster()
            let sources = (0..<3).map { TestImages.jpeg(width: 1600, height: 1200, seed: $0) }
            let completed = Counter()
            let count = try await Self.connect(cluster) { client in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<40 {
                        group.addTask {
                            let result = try await Self.run(client, source: sources[index % sources.count])
                            completed.increment()
                            return result.variants.count
                        }
                    }
                    group.addTask {
                        let deadline = ContinuousClock.now + .seconds(60)
                        while completed.value < 5 && ContinuousClock.now < deadline {
                            try await Task.sleep(for: .milliseconds(5))
                        }
                        cluster.signal(worker: "w1", SIGTERM)
                        return -1
                    }
                    var jobs = 0
                    for try await variants in group where variants >= 0 {
                        #expect(variants == 3)
                        jobs += 1
                    }
                    return jobs
                }
            }
            #expect(count == 40)
            #expect(
                await cluster.waitForExit(worker: "w1", timeout: .seconds(30)), "the worker did not exit after draining"
            )
            #expect(cluster.log("w1").contains("drained"))
        }
    }
}

/// A count shared by the tasks of a test.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
