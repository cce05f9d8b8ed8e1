import Foundation
import Testing

extension LiveCluster {
    /// pfctl as a user runs it, against a live cluster.
    @Suite("pfctl against a live cluster", .serialized)
    struct PfctlClusterTests {
        struct Run {
            var status: Int32
            var stdout: String
            var stderr: String
            var jsonLines: [[String: Any]] {
                stdout.split(separator: "\n").compactMap {
                    try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                }
            }
        }

        static var pfctl: URL { ClusterProcesses.binary.deletingLastPathComponent().appendingPathComponent("pfctl") }

        static func pfctl(
            _ arguments: [String], cluster: ClusterProcesses, secret: String = ClusterProcesses.tenantSecret
        ) throws -> Run {
            let process = Process()
            process.executableURL = pfctl
            process.arguments = arguments
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PIXELFLOW_") }
            environment["PIXELFLOW_COORDINATOR"] = cluster.protocolAddress
            environment["PIXELFLOW_KEY_ID"] = "acme"
            environment["PIXELFLOW_SECRET"] = secret
            process.environment = environment
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Run(
                status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                stderr: String(decoding: stderr, as: UTF8.self))
        }

        /// A coordinator and one registered worker (`w1`), and a 640×480 JPEG named `name` in the cluster's folder.
        static func clusterWithPhoto(named name: String) async throws -> (ClusterProcesses, URL) {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator()
            try cluster.startWorker("w1")
            try await cluster.waitForWorkers(1)
            let photo = cluster.directory.appendingPathComponent(name)
            try Data(TestImages.jpeg(width: 640, height: 480)).write(to: photo)
            return (cluster, photo)
        }

        @Test("pfctl process writes DIR/<stem>/<id>.<ext>, JSON lines and exit codes like pixelflow process")
        func process() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator()
            try cluster.startWorker("w1")
            try await cluster.waitForWorkers(1)
            let inputs = cluster.directory.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            try Data(TestImages.jpeg(width: 900, height: 600)).write(to: inputs.appendingPathComponent("beach.jpg"))
            try Data(TestImages.jpeg(width: 300, height: 500, seed: 9)).write(
                to: inputs.appendingPathComponent("tower.jpg"))
            try Data("not an image".utf8).write(to: inputs.appendingPathComponent("notes.jpg"))
            let output = cluster.directory.appendingPathComponent("out")

            let run = try Self.pfctl(
                [
                    "process", "--json", "--variant", "thumb:resize:100:webp:q=80", "--variant", "big:resize:800:jpeg",
                    "-o", output.path, inputs.path,
                ], cluster: cluster)
            #expect(run.status == 1, "one source is not an image: \(run.stderr)")
            let lines = run.jsonLines
            #expect(lines.count == 3)
            let beach = try #require(lines.first { ($0["source"] as? String)?.hasSuffix("beach.jpg") == true })
            #expect(beach["ok"] as? Bool == true)
            let variants = try #require(beach["variants"] as? [[String: Any]])
            #expect(Set(variants.compactMap { $0["id"] as? String }) == ["thumb", "big"])
            let thumbPath = output.appendingPathComponent("beach/thumb.webp").path
            let thumb = try #require(TestImages.inspect(Array(try Data(contentsOf: URL(fileURLWithPath: thumbPath)))))
            #expect(thumb.format == "webp" && thumb.width == 100 && thumb.height == 67)
            let tower = try #require(
                TestImages.inspect(Array(try Data(contentsOf: output.appendingPathComponent("tower/big.jpg")))))
            #expect(tower.width == 300, "never upscaled")
            let notes = try #require(lines.first { ($0["source"] as? String)?.hasSuffix("notes.jpg") == true })
            #expect(notes["ok"] as? Bool == false)
            #expect((notes["error"] as? [String: Any])?["code"] as? String == "unsupported_format")

            let workers = try Self.pfctl(["workers", "--json"], cluster: cluster)
            #expect(workers.status == 0)
            let list = try #require(
                try JSONSerialization.jsonObject(with: Data(workers.stdout.utf8)) as? [[String: Any]])
            #expect(list.count == 1 && list.first?["name"] as? String == "w1")

            let stats = try Self.pfctl(["stats", "--json"], cluster: cluster)
            #expect(stats.status == 0)
            #expect(stats.stdout.contains("\"admitted\""))

            let usage = try Self.pfctl(["process", "--pipeline", "/nonexistent.json", inputs.path], cluster: cluster)
            #expect(usage.status == 2)
        }

        @Test("pfctl bench --connections 3 spreads its jobs over three connections; every job succeeds")
        func benchOverSeveralConnections() async throws {
            let (cluster, image) = try await Self.clusterWithPhoto(named: "beach.jpg")
            let opened = try #require(try await cluster.metric("pixelflow_connections_total"))

            let run = try Self.pfctl(
                [
                    "bench", "--json", "--jobs", "30", "--concurrency", "6", "--connections", "3", "--variant",
                    "t:resize:64:webp", image.path,
                ], cluster: cluster)
            #expect(run.status == 0, "\(run.stderr)")
            let report = try #require(run.jsonLines.first)
            #expect(report["succeeded"] as? Int == 30)
            #expect(report["variants"] as? Int == 30)
            #expect(report["connections"] as? Int == 3)
            #expect(try await cluster.metric("pixelflow_connections_total") == opened + 3)
            let zero = try Self.pfctl(["bench", "--connections", "0", image.path], cluster: cluster)
            #expect(zero.status == 2 && zero.stderr.contains("--connections"))
        }

        @Test("pfctl submit, status, wait and cancel; a wrong secret fails with unauthorized")
        func asyncJobs() async throws {
            let (cluster, source) = try await Self.clusterWithPhoto(named: "photo.jpg")

            let submitted = try Self.pfctl(
                ["submit", "--json", "--variant", "thumb:resize:64:png", source.path], cluster: cluster)
            #expect(submitted.status == 0, "\(submitted.stderr)")
            let job = try #require(
                (try JSONSerialization.jsonObject(with: Data(submitted.stdout.utf8)) as? [String: Any])?["job_id"])
            let waited = try Self.pfctl(["wait", "--json", "\(job)"], cluster: cluster)
            #expect(waited.status == 0, "\(waited.stderr)")
            let status = try Self.pfctl(["status", "--json", "\(job)"], cluster: cluster)
            #expect(status.stdout.contains("succeeded"))
            let cancelled = try Self.pfctl(["cancel", "--json", "\(job)"], cluster: cluster)
            #expect(cancelled.stdout.contains("succeeded"), "a finished job stays finished")
            let unknown = try Self.pfctl(["status", "999999"], cluster: cluster)
            #expect(unknown.status == 1 && unknown.stderr.contains("not_found"))

            let denied = try Self.pfctl(["stats"], cluster: cluster, secret: "wrong-secret-wrong-secret")
            #expect(denied.status == 1 && denied.stderr.contains("unauthorized"))
            #expect(!denied.stderr.contains("wrong-secret"), "the secret never appears in output")
        }
    }
}
