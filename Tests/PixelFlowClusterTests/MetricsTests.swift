import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension LiveCluster {
    /// /metrics as Prometheus reads it: swift-prometheus' exposition checked by `promtool` and scraped by a real
    /// Prometheus server (Debian's `prometheus` package; deploy/install-deps.sh installs it).
    @Suite("Metrics through Prometheus", .serialized)
    struct MetricsTests {
        static func tool(_ name: String) -> String? {
            ["/usr/bin/\(name)", "/usr/local/bin/\(name)"].first { FileManager.default.isExecutableFile(atPath: $0) }
        }

        /// A cluster that ran two real jobs, and its HTTP API answered a request.
        static func busyCluster() async throws -> ClusterProcesses {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator(api: true)
            try cluster.startWorker("w1")
            try await cluster.waitForWorkers(1)
            let inputs = cluster.directory.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            try Data(TestImages.jpeg(width: 900, height: 600)).write(to: inputs.appendingPathComponent("a.jpg"))
            try Data(TestImages.jpeg(width: 600, height: 900, seed: 3)).write(
                to: inputs.appendingPathComponent("b.jpg"))
            let run = try PfctlClusterTests.pfctl(
                [
                    "process", "--variant", "t:resize:100:webp", "--variant", "m:resize:300:jpeg", "-o",
                    cluster.directory.appendingPathComponent("out").path, inputs.path,
                ], cluster: cluster)
            #expect(run.status == 0, "\(run.stderr)")
            let api = APIClient(address: cluster.apiAddress, token: ClusterProcesses.acmeToken)
            #expect(try await api.call("GET", "/v1/jobs").status == 200)
            return cluster
        }

        @Test(
            "histograms of queue wait, job and task time, decode time, encode time per format, source and variant bytes; every series the dashboard plots"
        )
        func exposition() async throws {
            let cluster = try await Self.busyCluster()
            let text = try await cluster.http("/metrics")
            #expect(try await cluster.metric("pixelflow_job_duration_seconds_count") == 2)
            #expect(try await cluster.metric("pixelflow_job_queue_wait_seconds_count") == 2)
            #expect(try await cluster.metric("pixelflow_task_duration_seconds_count") == 2)
            // Each worker reports its decode (TASK_DONE decode_ms); it is part of the task's time.
            #expect(try await cluster.metric("pixelflow_source_decode_seconds_count") == 2)
            let decodeSeconds = try #require(try await cluster.metric("pixelflow_source_decode_seconds_sum"))
            let taskSeconds = try #require(try await cluster.metric("pixelflow_task_duration_seconds_sum"))
            #expect(decodeSeconds <= taskSeconds)
            #expect(try await cluster.metric("pixelflow_source_bytes_count") == 2)
            #expect(try await cluster.metric("pixelflow_variant_bytes_count") == 4)
            #expect(try await cluster.metric(#"pixelflow_variant_encode_seconds_count{format="webp"}"#) == 2)
            #expect(try await cluster.metric(#"pixelflow_variant_encode_seconds_count{format="jpeg"}"#) == 2)
            #expect(try await cluster.metric(#"pixelflow_tenant_jobs_succeeded_total{tenant="acme"}"#) == 2)
            #expect(try await cluster.metric("pixelflow_jobs_succeeded_total") == 2)
            #expect(text.contains(#"pixelflow_worker_slots{worker="w1"} 2"#), "per-worker series")
            // The HTTP API's requests, on the same registry.
            #expect(try await cluster.metric(#"pixelflow_api_requests_total{method="GET",status="2xx"}"#) == 1)

            // Every metric the Grafana dashboard plots is one the coordinator exports.
            let dashboard = try String(
                contentsOf: ToolServer.repository.appendingPathComponent("deploy/grafana/pixelflow.json"),
                encoding: .utf8)
            let plotted = Set(
                dashboard.matches(of: /pixelflow_[a-z_]+/).map { String($0.output) }
                    .filter { $0 != "pixelflow_" })
            #expect(plotted.count > 10)
            for name in plotted {
                #expect(text.contains("\n\(name)") || text.contains("\n\(name){"), "the dashboard plots \(name)")
            }
        }

        @Test(
            "promtool check metrics accepts the whole exposition of a busy cluster",
            .enabled(
                if: tool("promtool") != nil,
                "promtool is missing: install Debian's prometheus package (deploy/install-deps.sh)"))
        func promtoolAccepts() async throws {
            let promtool = try #require(Self.tool("promtool"))
            let cluster = try await Self.busyCluster()
            let text = try await cluster.http("/metrics")
            let file = cluster.directory.appendingPathComponent("metrics.txt")
            try text.write(to: file, atomically: true, encoding: .utf8)
            let check = Process()
            check.executableURL = URL(fileURLWithPath: "/bin/sh")
            check.arguments = ["-c", "\(promtool) check metrics < \(file.path)"]
            let output = Pipe()
            check.standardOutput = output
            check.standardError = output
            try check.run()
            let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            check.waitUntilExit()
            #expect(check.terminationStatus == 0, "promtool: \(said)")
        }

        @Test("pfctl top --once: one frame with the counts, the workers and the latency line")
        func top() async throws {
            let cluster = try await Self.busyCluster()
            let run = try PfctlClusterTests.pfctl(
                ["top", "--once", "--interval", "0.3", "--metrics", "http://\(cluster.httpAddress)/metrics"],
                cluster: cluster)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("jobs: 0 queued, 0 running"), "\(run.stdout)")
            #expect(run.stdout.contains("workers: 1, slots 0/2 busy"), "\(run.stdout)")
            #expect(run.stdout.contains("latency, admission to done: no job ended in the interval"), "\(run.stdout)")
            #expect(run.stdout.split(separator: "\n").contains { $0.hasPrefix("w1 ") }, "\(run.stdout)")
            #expect(run.stdout.split(separator: "\n").contains { $0.hasPrefix("acme ") }, "\(run.stdout)")
        }

        @Test(
            "a real Prometheus server scrapes a live cluster: the target is up and the workers gauge reads 1",
            .enabled(
                if: tool("prometheus") != nil,
                "prometheus is missing: install Debian's prometheus package (deploy/install-deps.sh)"))
        func prometheusScrapes() async throws {
            let prometheus = try #require(Self.tool("prometheus"))
            let cluster = try await Self.busyCluster()
            let port = try MotoServer.freePort()
            let config = cluster.directory.appendingPathComponent("prometheus.yml")
            try """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: pixelflow
                static_configs: [{targets: ["\(cluster.httpAddress)"]}]

            """.write(to: config, atomically: true, encoding: .utf8)
            let server = Process()
            server.executableURL = URL(fileURLWithPath: prometheus)
            server.arguments = [
                "--config.file=\(config.path)", "--web.listen-address=127.0.0.1:\(port)",
                "--storage.tsdb.path=\(cluster.directory.appendingPathComponent("tsdb").path)",
            ]
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            defer {
                kill(server.processIdentifier, SIGTERM)
                server.waitUntilExit()
            }
            func query(_ expression: String) async -> String? {
                let escaped = expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? expression
                let url = URL(string: "http://127.0.0.1:\(port)/api/v1/query?query=\(escaped)")!
                guard let (data, _) = try? await URLSession.shared.data(from: url),
                    let answer = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                    let result = (answer["data"] as? [String: Any])?["result"] as? [[String: Any]],
                    let value = result.first?["value"] as? [Any]
                else { return nil }
                return value.last as? String
            }
            let deadline = ContinuousClock.now + .seconds(30)
            var up: String?
            var workers: String?
            while ContinuousClock.now < deadline {
                up = await query(#"up{job="pixelflow"}"#)
                workers = await query("pixelflow_workers")
                if up == "1" && workers == "1" { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(up == "1", "Prometheus scraped the coordinator")
            #expect(workers == "1")
            #expect(await query("pixelflow_jobs_succeeded_total") == "2")
        }
    }
}
