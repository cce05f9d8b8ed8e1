import Foundation
import PixelFlowClient
import Testing

extension LiveCluster {
    /// Usage metering against real processes: what `pfctl usage` and /metrics report is what the jobs did.
    @Suite("Usage metering", .serialized)
    struct UsageTests {
        static let pipeline =
            #"[{"id":"thumb","action":"resize","width":120,"format":"webp"},{"id":"medium","action":"resize","width":400,"format":"jpeg"}]"#

        @Test(
            "pfctl usage and /metrics: jobs by outcome, source pixels, bytes in and out and worker CPU per tenant and hour, exact; kept across a kill -9; a tenant sees only its own"
        )
        func metering() async throws {
            let cluster = try ClusterProcesses(extraConfig: ["usage": ["flush_interval_ms": 200]])
            try cluster.startCoordinator()
            try cluster.startWorker("w1", slots: 2)
            try await cluster.waitForWorkers(1)
            let sources = (0..<3).map { TestImages.jpeg(width: 1200, height: 800, seed: $0) }
            let stream = TestImages.jpeg(width: 640, height: 480, seed: 9)
            let undecodable = Array("this is not an image, whatever its name says".utf8)

            let bytesOut = try await DurableJobTests.connect(cluster) { client in
                var bytesOut = 0
                for source in sources {
                    let job = try await client.submit(source: source, pipeline: Self.pipeline)
                    _ = try await client.wait(job)
                    bytesOut += try await client.fetch(job).variants.reduce(0) { $0 + $1.bytes.count }
                }
                let bad = try await client.submit(source: undecodable, pipeline: Self.pipeline)
                await #expect(throws: PixelFlowClientError.self) { try await client.wait(bad) }
                let streamed = try await ClusterJobTests.run(client, source: stream, pipeline: Self.pipeline)
                return bytesOut + streamed.variants.reduce(0) { $0 + $1.bytes.count }
            }
            let otherJob = try await PixelFlowClient.withConnection(
                to: "127.0.0.1", port: cluster.port, keyID: "other", secret: ClusterProcesses.otherSecret
            ) { client in
                try await client.wait(try await client.submit(source: sources[0], pipeline: Self.pipeline))
            }
            #expect(otherJob.variants == 2)

            let expected = UsageFigures(
                admitted: 5, succeeded: 4, failed: 1, sourcePixels: 3 * 1200 * 800 + 640 * 480,
                bytesIn: sources.reduce(0) { $0 + $1.count } + stream.count + undecodable.count, bytesOut: bytesOut)
            let before = try Self.acmeTotals(cluster)
            #expect(before.figures == expected)
            #expect(before.cpuMilliseconds > 0, "the worker reported no CPU time")

            // A tenant sees its own buckets; the admin key (acme) sees both.
            let seenByOther = try await PixelFlowClient.withConnection(
                to: "127.0.0.1", port: cluster.port, keyID: "other", secret: ClusterProcesses.otherSecret
            ) { client in try await client.usage(since: Date(timeIntervalSinceNow: -3600)) }
            #expect(Set(seenByOther.map(\.tenant)) == ["other"])
            #expect(seenByOther.reduce(0) { $0 + $1.admitted } == 1)
            #expect(Set(before.buckets.compactMap { $0["tenant"] as? String }) == ["acme", "other"])

            #expect(try await cluster.metric(#"pixelflow_usage_jobs_admitted_total{tenant="acme"}"#) == 5)
            #expect(
                try await cluster.metric(#"pixelflow_usage_bytes_in_total{tenant="acme"}"#)
                    == Double(expected.bytesIn))

            // Flushed every 200 ms: after a kill -9 the store still has all of it.
            try await Task.sleep(for: .milliseconds(800))
            try cluster.restartCoordinatorAfterKill()
            let after = try Self.acmeTotals(cluster)
            #expect(after.figures == expected)
            #expect(after.cpuMilliseconds == before.cpuMilliseconds)
            #expect(try await cluster.metric(#"pixelflow_usage_jobs_admitted_total{tenant="acme"}"#) == 5)

            let text = try PfctlClusterTests.pfctl(["usage", "--since", "2h"], cluster: cluster)
            #expect(text.status == 0, "pfctl usage: \(text.stderr)")
            #expect(text.stdout.contains("HOUR (UTC)") && text.stdout.contains("total"))
            let invalid = try PfctlClusterTests.pfctl(["usage", "--since", "yesterday"], cluster: cluster)
            #expect(invalid.status == 2, "a bad --since is a usage error")
        }

        struct UsageFigures: Equatable {
            var admitted: Int
            var succeeded: Int
            var failed: Int
            var sourcePixels: Int
            var bytesIn: Int
            var bytesOut: Int
        }

        /// `pfctl usage --json` as the admin key: acme's totals, its CPU, and every bucket.
        static func acmeTotals(
            _ cluster: ClusterProcesses
        ) throws -> (figures: UsageFigures, cpuMilliseconds: Int, buckets: [[String: Any]]) {
            let run = try PfctlClusterTests.pfctl(["usage", "--since", "2h", "--json"], cluster: cluster)
            #expect(run.status == 0, "pfctl usage --json: \(run.stderr)")
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
            let totals = try #require(object["totals"] as? [[String: Any]])
            let acme = try #require(totals.first { $0["tenant"] as? String == "acme" }, "\(totals)")
            func value(_ key: String) -> Int { (acme[key] as? Int) ?? -1 }
            let figures = UsageFigures(
                admitted: value("admitted"), succeeded: value("succeeded"), failed: value("failed"),
                sourcePixels: value("source_pixels"), bytesIn: value("bytes_in"), bytesOut: value("bytes_out"))
            return (figures, value("cpu_ms"), (object["buckets"] as? [[String: Any]]) ?? [])
        }
    }
}
