import Foundation
import PixelFlowClient
import Synchronization
import Testing

extension LiveCluster {
    /// Async jobs survive the coordinator: real processes, a real SQLite store, kill -9 and restart.
    @Suite("Durable async jobs across a coordinator kill -9", .serialized)
    struct DurableJobTests {
        static let pipeline = #"[{"id":"thumb","action":"resize","width":64,"format":"webp"}]"#

        static func connect<Result: Sendable>(
            _ cluster: ClusterProcesses, _ body: (PixelFlowClient) async throws -> Result
        ) async throws -> Result {
            try await PixelFlowClient.withConnection(
                to: "127.0.0.1", port: cluster.port, keyID: "acme", secret: ClusterProcesses.tenantSecret, body)
        }

        /// Submits async jobs from `clients` connections until `count` are submitted or the coordinator dies;
        /// returns the ids that got ACCEPTED. Each source differs, so no two jobs share a stored blob.
        static func submitUntilKilled(
            _ cluster: ClusterProcesses, clients: Int, count: Int, accepted: Counter, webhookURL: String? = nil
        ) async -> [UInt64] {
            await withTaskGroup(of: [UInt64].self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var ids: [UInt64] = []
                        try? await Self.connect(cluster) { connection in
                            for index in stride(from: client, to: count, by: clients) {
                                let source = Array("source \(index) ".utf8) + [UInt8](repeating: 0x5A, count: 2048)
                                let id = try await connection.submit(
                                    source: source, pipeline: Self.pipeline, webhookURL: webhookURL)
                                ids.append(id.rawValue)
                                accepted.increment()
                            }
                        }
                        return ids
                    }
                }
                var all: [UInt64] = []
                for await ids in group { all += ids }
                return all
            }
        }

        /// Waits for every job to end; returns the ids that did not succeed, with why.
        static func unfinished(_ ids: [UInt64], in cluster: ClusterProcesses) async throws -> [String] {
            try await Self.connect(cluster) { client in
                var failures: [String] = []
                for batch in stride(from: 0, to: ids.count, by: 50).map({ Array(ids[$0..<min($0 + 50, ids.count)]) }) {
                    try await withThrowingTaskGroup(of: String?.self) { group in
                        for id in batch {
                            group.addTask {
                                do {
                                    _ = try await client.wait(JobID(id))
                                    return nil
                                } catch {
                                    return "job \(id): \(error)"
                                }
                            }
                        }
                        for try await failure in group { if let failure { failures.append(failure) } }
                    }
                }
                return failures
            }
        }

        @Test(
            "kill -9 of the coordinator while 4 clients submit 1,000 async jobs: every ACCEPTED job completes after a restart, new ids are above the old ones, and each job's webhook arrives with one event id"
        )
        func killDuringSubmission() async throws {
            let cluster = try WebhookTests.cluster(webhooks: ["allow": ["127.0.0.1/32"], "retry_backoff_ms": 100])
            let receiver = try WebhookReceiver(directory: cluster.directory)
            try cluster.startCoordinator()
            try cluster.startWorker("w1", slots: 16, extra: ["--null-engine"])
            try await cluster.waitForWorkers(1)
            let accepted = Counter()
            let killAt = Int.random(in: 150...500)
            async let submitted = Self.submitUntilKilled(
                cluster, clients: 4, count: 1_000, accepted: accepted, webhookURL: receiver.url)
            let deadline = ContinuousClock.now + .seconds(60)
            while accepted.value < killAt && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(1))
            }
            try cluster.restartCoordinatorAfterKill()
            let ids = await submitted
            #expect(ids.count >= killAt, "the kill came before \(killAt) acceptances")
            #expect(Set(ids).count == ids.count, "an id was handed out twice")
            try await cluster.waitForWorkers(1, timeout: .seconds(30))
            let failures = try await Self.unfinished(ids, in: cluster)
            #expect(failures.isEmpty, "accepted jobs lost or failed: \(failures.prefix(5))")
            let newID = try await Self.connect(cluster) { client in
                try await client.submit(source: Array("after the restart".utf8), pipeline: Self.pipeline)
            }
            #expect(newID.rawValue > ids.max() ?? 0, "job ids restarted below the ones handed out before the kill")
            let expected = Set(ids.map(Int.init))
            let deliveries = await receiver.wait(timeout: .seconds(60)) { deliveries in
                expected.isSubset(of: Set(deliveries.compactMap { $0.body["job_id"] as? Int }))
            }
            var eventIDs: [Int: Set<String>] = [:]
            for delivery in deliveries {
                if let job = delivery.body["job_id"] as? Int { eventIDs[job, default: []].insert(delivery.eventID) }
            }
            let missing = expected.subtracting(eventIDs.keys)
            #expect(missing.isEmpty, "\(missing.count) accepted jobs got no webhook, e.g. \(missing.prefix(5))")
            #expect(eventIDs.values.allSatisfy { $0.count == 1 }, "a job's deliveries carried different event ids")
            #expect(deliveries.allSatisfy { $0.signatureOK })
            print("durable kill test: \(ids.count) accepted before the kill at ≥\(killAt), all completed after restart")
        }

        @Test("kill -9 of the coordinator while workers are busy with async jobs: all of them complete after a restart")
        func killDuringDispatch() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator()
            try cluster.startWorker("w1", slots: 1)
            try cluster.startWorker("w2", slots: 1)
            try await cluster.waitForWorkers(2)
            let sources = (0..<6).map { TestImages.jpeg(width: 900, height: 600, seed: $0) }
            let ids = try await Self.connect(cluster) { client in
                var ids: [UInt64] = []
                for index in 0..<30 {
                    ids.append(
                        try await client.submit(source: sources[index % sources.count], pipeline: Self.pipeline)
                            .rawValue)
                }
                // Kill once some are done and others are running.
                let deadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < deadline {
                    if try await client.status(JobID(ids[3])).state == .succeeded { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                return ids
            }
            try cluster.restartCoordinatorAfterKill()
            try await cluster.waitForWorkers(2, timeout: .seconds(30))
            let failures = try await Self.unfinished(ids, in: cluster)
            #expect(failures.isEmpty, "jobs lost or failed across the restart: \(failures.prefix(5))")
            let attempts = try await Self.connect(cluster) { client in
                try await client.status(JobID(ids[0])).attempts
            }
            #expect(attempts >= 1)
        }

        @Test("a job store from a newer pixelflow stops the coordinator with status 78 and says what to do")
        func newerSchemaRefused() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator()
            cluster.stopAll()
            try Self.sqlite(
                cluster.dataPath + "/jobs.sqlite",
                "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-a-newer-build')")
            #expect(throws: ClusterProcesses.Failure.self) { try cluster.startCoordinator() }
            let coordinator = try #require(cluster.coordinator)
            coordinator.waitUntilExit()
            #expect(coordinator.terminationStatus == 78)
            #expect(cluster.log("coordinator").contains("v99-from-a-newer-build"))
            #expect(cluster.log("coordinator").contains("upgrade pixelflow"))
        }

        @Test(
            "a damaged job store: the coordinator starts, /readyz says why it is not ready, async jobs are refused with storage_error, stream jobs still run"
        )
        func damagedStoreDegrades() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator()
            cluster.stopAll()
            // Damage the main file, and drop the write-ahead log that would otherwise still hold good pages.
            for suffix in ["-wal", "-shm"] {
                try? FileManager.default.removeItem(atPath: cluster.dataPath + "/jobs.sqlite" + suffix)
            }
            let file = try #require(FileHandle(forWritingAtPath: cluster.dataPath + "/jobs.sqlite"))
            try file.write(contentsOf: Data(repeating: 0xEE, count: 4096))
            try file.close()
            try cluster.startCoordinator()
            try cluster.startWorker("w1", extra: ["--null-engine"])
            try await cluster.waitForWorkers(1)
            let readiness = try await cluster.http("/readyz")
            #expect(readiness.contains("the job store is failing"), "readyz: \(readiness)")
            try await Self.connect(cluster) { client in
                let refusal = await #expect(throws: PixelFlowClientError.self) {
                    try await client.submit(source: Array("async".utf8), pipeline: Self.pipeline)
                }
                #expect(refusal?.code == .storageError)
                #expect(refusal?.retryAfter != nil)
                var completed = false
                for try await event in client.process(source: Array("stream".utf8), pipeline: Self.pipeline) {
                    if case .completed = event { completed = true }
                }
                #expect(completed)
            }
            #expect(cluster.isCoordinatorRunning)
        }

        @Test(
            "a full disk (a file-size limit): a source too big to store is refused with storage_error and nothing is kept, readiness comes back, smaller async jobs and stream jobs go on, nothing crashes"
        )
        func fileSizeLimit() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator(fileSizeLimitKiB: 2048)
            try cluster.startWorker("w1", extra: ["--null-engine"])
            try await cluster.waitForWorkers(1)
            try await Self.connect(cluster) { client in
                // 3 MiB of source: its blob file passes the 2 MiB limit (EFBIG), so its admission does not commit.
                let big = [UInt8](repeating: 0x42, count: 3 << 20)
                let refusal = await #expect(throws: PixelFlowClientError.self) {
                    try await client.submit(source: big, pipeline: Self.pipeline)
                }
                #expect(refusal?.code == .storageError, "\(String(describing: refusal))")
                #expect(refusal?.message.contains("File too large") == true, "the refusal does not say what failed")
                #expect(cluster.log("coordinator").contains("File too large"), "the log does not say what failed")
                var completed = false
                for try await event in client.process(source: Array("stream".utf8), pipeline: Self.pipeline) {
                    if case .completed = event { completed = true }
                }
                #expect(completed, "stream jobs stopped with the store")
                // The 1 s probe finds the store writable again (small writes fit): small async jobs are accepted.
                let deadline = ContinuousClock.now + .seconds(10)
                var accepted: JobID?
                while accepted == nil && ContinuousClock.now < deadline {
                    accepted = try? await client.submit(source: Array("small".utf8), pipeline: Self.pipeline)
                    if accepted == nil { try await Task.sleep(for: .milliseconds(200)) }
                }
                let job = try #require(accepted, "no async job was accepted after the failure")
                _ = try await client.wait(job)
            }
            #expect(try await cluster.http("/readyz").hasPrefix("ready"))
            #expect(cluster.isCoordinatorRunning)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: cluster.dataPath + "/blobs/tmp")
            #expect(leftovers.isEmpty, "a failed blob write left \(leftovers) behind")
        }

        static func sqlite(_ path: String, _ sql: String) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "python3", "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()",
                path, sql,
            ]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
    }
}
