import Foundation
import PixelFlowClient
import Testing

extension LiveCluster {
    /// An async job's variants are kept in the store: fetched after the submitter left and after a kill -9.
    @Suite("Stored results of async jobs", .serialized)
    struct StoredResultTests {
        static let pipeline =
            #"[{"id":"thumb","action":"resize","width":120,"format":"webp"},{"id":"big","action":"resize","width":700,"format":"jpeg"}]"#

        @Test(
            "an async job's variants are fetched after its submitter left and after a coordinator kill -9, byte for byte; pfctl fetch and wait -o write them"
        )
        func fetchAcrossRestart() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator()
            try cluster.startWorker("w1")
            try await cluster.waitForWorkers(1)
            let source = TestImages.jpeg(width: 1200, height: 800, seed: 4)
            let job = try await DurableJobTests.connect(cluster) { client in
                try await client.submit(source: source, pipeline: Self.pipeline)
            }
            // A new connection: the submitter is gone.
            let before = try await DurableJobTests.connect(cluster) { client in try await client.fetch(job) }
            #expect(before.variants.map(\.id).sorted() == ["big", "thumb"])
            #expect(before.variants.first { $0.id == "big" }?.width == 700)
            #expect(before.variants.allSatisfy { !$0.bytes.isEmpty })

            try cluster.restartCoordinatorAfterKill()
            let after = try await DurableJobTests.connect(cluster) { client in try await client.fetch(job) }
            #expect(after.variants == before.variants, "the stored variants changed across the restart")
            #expect(after.outcome.variants == 2)

            let output = cluster.directory.appendingPathComponent("fetched")
            let fetch = try PfctlClusterTests.pfctl(
                ["fetch", "\(job.rawValue)", "-o", output.path, "--json"], cluster: cluster)
            #expect(fetch.status == 0, "pfctl fetch: \(fetch.stderr)")
            let line = try #require(fetch.jsonLines.first)
            #expect(line["ok"] as? Bool == true)
            #expect((line["variants"] as? [[String: Any]])?.count == 2)
            let big = try Data(contentsOf: output.appendingPathComponent("\(job.rawValue)/big.jpg"))
            #expect(Array(big) == before.variants.first { $0.id == "big" }?.bytes)

            let waited = try PfctlClusterTests.pfctl(["wait", "\(job.rawValue)", "-o", output.path], cluster: cluster)
            #expect(waited.status == 0, "pfctl wait -o: \(waited.stderr)")
            #expect(waited.stdout.contains("2 variants written"))
        }

        @Test(
            "pfctl jobs: stored jobs newest first, --state failed lists the dead letters with their error, a tenant sees its own, an admin every tenant's"
        )
        func listing() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator()
            try cluster.startWorker("w1")
            try await cluster.waitForWorkers(1)
            let image = TestImages.jpeg(width: 300, height: 200)
            let ids = try await DurableJobTests.connect(cluster) { client in
                var ids: [JobID] = []
                for source in [image, Array("not an image".utf8), image] {
                    ids.append(try await client.submit(source: source, pipeline: Self.pipeline))
                }
                for id in ids { _ = try? await client.wait(id) }
                return ids
            }
            let otherJob = try await PixelFlowClient.withConnection(
                to: "127.0.0.1", port: cluster.port, keyID: "other", secret: ClusterProcesses.otherSecret
            ) { client in
                let id = try await client.submit(source: image, pipeline: Self.pipeline)
                _ = try await client.wait(id)
                return id
            }
            let all = try PfctlClusterTests.pfctl(["jobs", "--json"], cluster: cluster)
            #expect(all.status == 0, "pfctl jobs: \(all.stderr)")
            let listed = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]])
            #expect(
                listed.compactMap { $0["job_id"] as? Int } == ([otherJob] + ids.reversed()).map { Int($0.rawValue) })
            #expect(listed.first?["tenant"] as? String == "other", "the admin key sees every tenant")
            let failed = try PfctlClusterTests.pfctl(["jobs", "--state", "failed", "--json"], cluster: cluster)
            let dead = try #require(
                try JSONSerialization.jsonObject(with: Data(failed.stdout.utf8)) as? [[String: Any]])
            #expect(dead.count == 1 && dead.first?["job_id"] as? Int == Int(ids[1].rawValue))
            // Text is not an image: the engine's permanent refusal, with its reason.
            let error = dead.first?["error"] as? [String: Any]
            #expect(["undecodable_image", "unsupported_format"].contains(error?["code"] as? String ?? ""))
            #expect((error?["message"] as? String)?.isEmpty == false)
            let own = try PfctlClusterTests.pfctl(
                ["jobs", "--key-id", "other"], cluster: cluster, secret: ClusterProcesses.otherSecret)
            #expect(own.status == 0)
            #expect(own.stdout.contains("\(otherJob)") && !own.stdout.contains("acme"), "\(own.stdout)")
            let table = try PfctlClusterTests.pfctl(["jobs", "--limit", "2"], cluster: cluster)
            #expect(table.stdout.split(separator: "\n").count == 3, "a header and 2 jobs: \(table.stdout)")
        }

        @Test(
            "FETCH of a job still running waits for it; of a stream job or an unknown id, not_found; a damaged variant, storage_error"
        )
        func fetchEdges() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator()
            try await DurableJobTests.connect(cluster) { client in
                // No worker yet: the job waits in the queue while FETCH waits for it.
                let job = try await client.submit(
                    source: TestImages.jpeg(width: 400, height: 300), pipeline: Self.pipeline)
                async let fetched = client.fetch(job)
                try await Task.sleep(for: .milliseconds(200))
                try cluster.startWorker("w1")
                #expect(try await fetched.variants.count == 2)

                let unknown = await #expect(throws: PixelFlowClientError.self) {
                    try await client.fetch(JobID(999_999))
                }
                #expect(unknown?.code == .notFound)
                var streamJob: JobID?
                for try await event in client.process(
                    source: TestImages.jpeg(width: 300, height: 200), pipeline: Self.pipeline)
                {
                    if case .accepted(let id, _) = event { streamJob = id }
                }
                let notKept = await #expect(throws: PixelFlowClientError.self) {
                    try await client.fetch(try #require(streamJob))
                }
                #expect(notKept?.code == .notFound)

                // A variant over the inline limit is a file: truncate it behind the coordinator's back.
                let large = try await client.submit(
                    source: TestImages.jpeg(width: 1600, height: 1200, seed: 2),
                    pipeline: #"[{"id":"png","action":"resize","width":1200,"format":"png"}]"#)
                _ = try await client.wait(large)
                let blobs = try FileManager.default.subpathsOfDirectory(atPath: cluster.dataPath + "/blobs/sha256")
                    .map { cluster.dataPath + "/blobs/sha256/" + $0 }
                    .filter {
                        !$0.hasSuffix("/")
                            && (try? FileManager.default.attributesOfItem(atPath: $0)[.type] as? FileAttributeType)
                                == .typeRegular
                    }
                for blob in blobs { #expect(truncate(blob, 10) == 0) }
                #expect(!blobs.isEmpty, "no blob file was written")
                let damaged = await #expect(throws: PixelFlowClientError.self) { try await client.fetch(large) }
                #expect(damaged?.code == .storageError)
            }
            #expect(cluster.isCoordinatorRunning)
        }

        @Test(
            "FETCHes of large results under a 1 MiB FETCH budget: 6 at once of 4 × 3 MB variants each, all byte for byte, read one variant at a time"
        )
        func fetchLargeResultsWithinTheBudget() async throws {
            let cluster = try ClusterProcesses(extraConfig: ["limits": ["max_fetch_bytes": 1 << 20]])
            try cluster.startCoordinator()
            try cluster.startWorker("w1", extra: ["--null-engine", "--null-variant-bytes", "3000000"])
            try await cluster.waitForWorkers(1)
            let pipeline =
                "["
                + (1...4).map { #"{"id":"v\#($0)","action":"resize","width":100,"format":"png"}"# }
                .joined(separator: ",") + "]"
            let job = try await DurableJobTests.connect(cluster) { client in
                let job = try await client.submit(source: Array("large results".utf8), pipeline: pipeline)
                _ = try await client.wait(job)
                return job
            }
            let fetched = try await DurableJobTests.connect(cluster) { client in
                try await withThrowingTaskGroup(of: FetchedJob.self) { group in
                    for _ in 0..<6 { group.addTask { try await client.fetch(job) } }
                    var all: [FetchedJob] = []
                    for try await result in group { all.append(result) }
                    return all
                }
            }
            #expect(fetched.count == 6)
            let first = try #require(fetched.first)
            #expect(first.variants.map(\.id) == ["v1", "v2", "v3", "v4"])
            #expect(first.variants.allSatisfy { $0.bytes.count == 3_000_000 })
            #expect(fetched.allSatisfy { $0.variants == first.variants }, "FETCHes of one job disagreed")
            #expect(cluster.isCoordinatorRunning)
        }
    }
}
