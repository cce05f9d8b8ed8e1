import Foundation
import PixelFlowClient
import Testing

extension LiveCluster {
    /// The client outlives its coordinator: it reconnects and resubmits, and the caller sees each result once.
    @Suite("Clients across a coordinator kill -9", .serialized)
    struct ClientReconnectTests {
        static let pipeline =
            #"[{"id":"thumb","action":"resize","width":96,"format":"webp"},{"id":"medium","action":"resize","width":200,"format":"jpeg"}]"#

        @Test(
            "pfctl process of 200 photos while the coordinator is killed with -9 and restarted: exit 0, 200 × 2 variants, none twice, none missing"
        )
        func processAcrossRestart() async throws {
            // 40 admissions a second: the batch lasts at least 5 s on any machine, so the kill lands inside it.
            let cluster = try ClusterProcesses(tenants: [
                [
                    "key_id": "acme", "secret": ClusterProcesses.tenantSecret, "rate": 40, "burst": 8,
                    "max_queued": 10_000,
                ]
            ])
            try cluster.startCoordinator()
            try cluster.startWorker("w1", slots: 2)
            try cluster.startWorker("w2", slots: 2)
            try await cluster.waitForWorkers(2)
            let inputs = cluster.directory.appendingPathComponent("photos")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            for index in 0..<200 {
                try Data(TestImages.jpeg(width: 480, height: 320, seed: index)).write(
                    to: inputs.appendingPathComponent(String(format: "photo-%03d.jpg", index)))
            }
            let pipelineFile = cluster.directory.appendingPathComponent("pipeline.json")
            try Data(Self.pipeline.utf8).write(to: pipelineFile)
            let output = cluster.directory.appendingPathComponent("out")
            let stdout = cluster.directory.appendingPathComponent("pfctl.out")
            let stderr = cluster.directory.appendingPathComponent("pfctl.err")
            _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
            _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
            let pfctl = Process()
            pfctl.executableURL = PfctlClusterTests.pfctl
            pfctl.arguments = [
                "process", "--pipeline", pipelineFile.path, "-o", output.path, "--concurrency", "8", "--max-retries",
                "10000",
                "--json",
                inputs.path,
            ]
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PIXELFLOW_") }
            environment["PIXELFLOW_COORDINATOR"] = cluster.protocolAddress
            environment["PIXELFLOW_KEY_ID"] = "acme"
            environment["PIXELFLOW_SECRET"] = ClusterProcesses.tenantSecret
            pfctl.environment = environment
            pfctl.standardOutput = try FileHandle(forWritingTo: stdout)
            pfctl.standardError = try FileHandle(forWritingTo: stderr)
            try pfctl.run()
            defer { if pfctl.isRunning { kill(pfctl.processIdentifier, SIGKILL) } }

            // Kill the coordinator once a part of the batch is written, from a thread of its own: the test's
            // cooperative threads may be busy with other suites for longer than the batch lasts.
            let coordinatorPID = try #require(cluster.coordinator).processIdentifier
            let stdoutPath = stdout.path
            let killedMidBatch =
                await ProcessWatch.kill(coordinatorPID, within: .seconds(120)) {
                    let done =
                        (try? String(contentsOfFile: stdoutPath, encoding: .utf8))?.split(separator: "\n").count ?? 0
                    return done >= 30
                } && pfctl.isRunning
            #expect(killedMidBatch, "the batch finished before the kill")
            try cluster.restartCoordinatorAfterKill()
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline, pfctl.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!pfctl.isRunning, "pfctl did not finish within the time limit")
            let errors = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
            #expect(pfctl.terminationStatus == 0, "pfctl exited \(pfctl.terminationStatus): \(errors.suffix(2000))")

            let lines = ((try? String(contentsOf: stdout, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            let sources = lines.filter { $0["source"] != nil }
            #expect(sources.count == 200, "\(sources.count) source lines")
            let variantIDs = sources.map {
                (($0["variants"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
            }
            #expect(
                variantIDs.allSatisfy { $0.sorted() == ["medium", "thumb"] },
                "a source's variants were missing or repeated")
            let folders = try FileManager.default.contentsOfDirectory(atPath: output.path)
            #expect(folders.count == 200)
            for folder in folders {
                let files = try FileManager.default.contentsOfDirectory(
                    atPath: output.appendingPathComponent(folder).path)
                #expect(files.sorted() == ["medium.jpg", "thumb.webp"], "\(folder): \(files)")
            }
        }

        @Test(
            "a client's requests carry on over a coordinator restart: async submissions keep their job, status and wait are answered"
        )
        func requestsAcrossRestart() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator()
            try cluster.startWorker("w1", slots: 4, extra: ["--null-engine"])
            try await cluster.waitForWorkers(1)
            let client = try await PixelFlowClient.connect(
                to: "127.0.0.1", port: cluster.port, keyID: "acme", secret: ClusterProcesses.tenantSecret)
            let before = try await client.submit(source: Array("before".utf8), pipeline: Self.pipeline)
            try cluster.restartCoordinatorAfterKill()
            // The same client, no new connect: the request waits for the reconnection and goes through.
            let after = try await client.submit(source: Array("after".utf8), pipeline: Self.pipeline)
            #expect(after.rawValue > before.rawValue)
            _ = try await client.wait(before)
            _ = try await client.wait(after)
            #expect(try await client.status(before).state == .succeeded)
            await client.close()
        }
    }
}
