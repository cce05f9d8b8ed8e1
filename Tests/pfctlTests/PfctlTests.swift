import ArgumentParser
import Foundation
import PixelFlowProtocol
import Testing

@testable import PixelFlowClient
@testable import pfctl

@Suite struct PfctlArgumentTests {
    @Test func connectionFlagsWinOverTheEnvironment() throws {
        let command = try #require(
            try PfctlCommand.parseAsRoot([
                "status", "7", "--coordinator", "node1:7500", "--key-id", "acme", "--secret", "s3",
            ]) as? StatusCommand)
        #expect(command.job == 7)
        let resolved = try command.connection.resolve(environment: [
            "PIXELFLOW_COORDINATOR": "other:1", "PIXELFLOW_KEY_ID": "x", "PIXELFLOW_SECRET": "y",
        ])
        #expect(resolved == .init(host: "node1", port: 7500, keyID: "acme", secret: "s3"))
    }

    @Test func environmentFillsWhatFlagsLeaveOut() throws {
        let command = try #require(try PfctlCommand.parseAsRoot(["workers", "--json"]) as? WorkersCommand)
        #expect(command.connection.json)
        let resolved = try command.connection.resolve(environment: [
            "PIXELFLOW_COORDINATOR": "[::1]:7400", "PIXELFLOW_KEY_ID": "dev", "PIXELFLOW_SECRET": "abc",
        ])
        #expect(resolved == .init(host: "::1", port: 7400, keyID: "dev", secret: "abc"))
        let fallback = try command.connection.resolve(environment: [
            "PIXELFLOW_KEY_ID": "dev", "PIXELFLOW_SECRET": "abc",
        ])
        #expect(fallback.host == "127.0.0.1" && fallback.port == 7400)
    }

    @Test func missingCredentialsOrBadAddressAreUsageErrors() throws {
        let command = try #require(try PfctlCommand.parseAsRoot(["stats"]) as? StatsCommand)
        #expect(throws: ValidationError.self) {
            try command.connection.resolve(environment: ["PIXELFLOW_SECRET": "abc"])
        }
        #expect(throws: ValidationError.self) {
            try command.connection.resolve(environment: ["PIXELFLOW_KEY_ID": "dev"])
        }
        for address in ["nohost", "host:", ":7400", "host:0", "host:70000"] {
            #expect(throws: ValidationError.self, "\(address)") { try ConnectionOptions.parse(address: address) }
        }
    }

    @Test func processTakesPixelflowProcessInputs() throws {
        let command = try #require(
            try PfctlCommand.parseAsRoot([
                "process", "-o", "out", "--concurrency", "3", "--variant", "thumb:resize:150:webp", "--variant",
                "big:resize:800:jpeg",
                "--json", "a.jpg", "photos/",
            ]) as? ClusterProcessCommand)
        #expect(command.output == "out" && command.concurrency == 3 && command.connection.json)
        #expect(command.inputs == ["a.jpg", "photos/"])
        let pipeline = try loadPipeline(command.pipelineOptions)
        #expect(pipeline.variants.map(\.id) == ["thumb", "big"])
        #expect(
            pipeline.wireJSON
                == #"[{"id":"thumb","action":"resize","width":150,"format":"webp"},{"id":"big","action":"resize","width":800,"format":"jpeg"}]"#
        )
    }

    @Test func processRejectsBadUsage() throws {
        #expect(throws: (any Error).self) { try PfctlCommand.parseAsRoot(["process", "--concurrency", "0", "a.jpg"]) }
        #expect(throws: (any Error).self) { try PfctlCommand.parseAsRoot(["process"]) }
        let both = try #require(
            try PfctlCommand.parseAsRoot(["process", "--pipeline", "p.json", "--variant", "a:resize:10:png", "a.jpg"])
                as? ClusterProcessCommand)
        #expect(throws: ValidationError.self) { try loadPipeline(both.pipelineOptions) }
        // Usage errors exit with ArgumentParser's validation status, which main() turns into 2.
        do {
            _ = try PfctlCommand.parseAsRoot(["bench", "--jobs", "0", "a.jpg"])
            Issue.record("--jobs 0 should not parse")
        } catch {
            #expect(PfctlCommand.exitCode(for: error) == .validationFailure)
        }
    }

    @Test func submitAndBenchOptions() throws {
        let submit = try #require(
            try PfctlCommand.parseAsRoot([
                "submit", "--idempotency-key", "k1", "--webhook", "https://example.com/hook", "--priority", "200",
                "photo.jpg",
            ]) as? SubmitCommand)
        #expect(
            submit.idempotencyKey == "k1" && submit.webhookURL == "https://example.com/hook" && submit.priority == 200
                && submit.file == "photo.jpg")

        let bench = try #require(try PfctlCommand.parseAsRoot(["bench", "photos/"]) as? BenchCommand)
        #expect(bench.jobs == 100 && bench.concurrency == 8 && bench.inputs == ["photos/"])
        let custom = try #require(
            try PfctlCommand.parseAsRoot([
                "bench", "--jobs", "500", "--concurrency", "32", "--pipeline", "job.json", "x.jpg",
            ]) as? BenchCommand)
        #expect(custom.jobs == 500 && custom.concurrency == 32 && custom.pipelineOptions.pipeline == "job.json")
    }
}

@Suite struct PfctlLogicTests {
    @Test func retriesOnlyRateLimitsAndOnlySoOften() {
        let policy = RetryPolicy(maxRetries: 2)
        let limited = PixelFlowClientError(wire: .rateLimited, message: "slow down", retryAfterMilliseconds: 200)
        #expect(policy.delay(after: limited, retriesSoFar: 0) == .milliseconds(200))
        #expect(policy.delay(after: limited, retriesSoFar: 2) == nil)
        let full = PixelFlowClientError(wire: .queueFull, message: "full")
        #expect(policy.delay(after: full, retriesSoFar: 1) == .milliseconds(100))
        let huge = PixelFlowClientError(wire: .rateLimited, message: "", retryAfterMilliseconds: 3_600_000)
        #expect(policy.delay(after: huge, retriesSoFar: 0) == .seconds(30))
        for code in [ErrorCode.undecodableImage, .invalidPipeline, .tooManyInFlight, .notFound] {
            #expect(
                policy.delay(after: PixelFlowClientError(wire: code, message: ""), retriesSoFar: 0) == nil, "\(code)")
        }
        #expect(policy.delay(after: .init(.connectionLost, "gone"), retriesSoFar: 0) == nil)
        let estimated = PixelFlowClientError(rejected: .queueFull, "full", retryAfter: .seconds(2))
        #expect(policy.delay(after: estimated, retriesSoFar: 0) == .seconds(2))
    }

    @Test func percentilesUseNearestRank() {
        let values = (1...100).map(Double.init)
        #expect(Percentile.of(values, 50) == 50 && Percentile.of(values, 95) == 95 && Percentile.of(values, 99) == 99)
        #expect(Percentile.of([7], 99) == 7)
        #expect(Percentile.of([], 50) == nil)
        #expect(Percentile.of([1, 2, 3], 50) == 2)
    }

    @Test func benchReportAddsUpAndPrintsJSON() throws {
        var report = BenchReport()
        for index in 1...10 {
            report.add(
                BenchSample(
                    latencyMilliseconds: Double(index * 10), firstVariantMilliseconds: Double(index), variants: 3,
                    bytesOut: 100, retries: index == 1 ? 2 : 0, failureCode: nil))
        }
        report.add(BenchSample(variants: 0, bytesOut: 0, retries: 0, failureCode: "undecodable_image"))
        report.elapsed = .seconds(2)
        #expect(report.jobs == 11 && report.succeeded == 10 && report.failed == 1 && report.retries == 2)
        #expect(report.imagesPerSecond == 5)
        #expect(report.latency(50) == 50 && report.latency(99) == 100 && report.firstVariant(95) == 10)
        #expect(report.text.contains("5.00 images/s") && report.text.contains("p50 50.0 ms"))

        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        #expect(json["jobs"] as? Int == 11 && json["failed"] as? Int == 1 && json["retries"] as? Int == 2)
        #expect((json["latency_ms"] as? [String: Any])?["p95"] as? Double == 100)
        #expect((json["first_variant_ms"] as? [String: Any])?["p50"] as? Double == 5)
        #expect((json["failures"] as? [String: Any])?["undecodable_image"] as? Int == 1)
        #expect(json["images_per_second"] as? Double == 5)
    }

    @Test func jsonDocumentsParse() throws {
        let status = JobStatusReport(
            wire: JobStatus(
                jobID: 7, state: .failed, attempts: 2, variantsDone: 1, code: .undecodableImage, message: "bad"))
        let statusObject = try #require(
            try JSONSerialization.jsonObject(with: Data(JSONOutput.status(status).utf8)) as? [String: Any])
        #expect(
            statusObject["job_id"] as? Int == 7 && statusObject["state"] as? String == "failed"
                && statusObject["variants_done"] as? Int == 1)
        #expect((statusObject["error"] as? [String: Any])?["code"] as? String == "undecodable_image")
        let queued = JobStatusReport(jobID: JobID(8), state: .queued, attempts: 0, variantsDone: 0)
        #expect(JSONOutput.status(queued).hasSuffix(#""error":null}"#))

        let workers = [
            WorkerInfo(
                name: "w1", address: "10.0.0.2:5000", slots: 2, busy: 1, done: 9, failed: 0,
                lastHeartbeatMillisecondsAgo: 300)
        ]
        let workerArray = try #require(
            try JSONSerialization.jsonObject(with: Data(JSONOutput.workers(workers).utf8)) as? [[String: Any]])
        #expect(
            workerArray.count == 1 && workerArray[0]["name"] as? String == "w1"
                && workerArray[0]["last_heartbeat_ms"] as? Int == 300)
        #expect(JSONOutput.workers([]) == "[]")

        let stats = ClusterStats(
            total: .init(queued: 4, running: 2, admitted: 10, rejected: 3, succeeded: 5, failed: 1), workers: 2,
            tenants: [.init(name: "acme", counters: .init(queued: 4, admitted: 10, rejected: 3))])
        let statsObject = try #require(
            try JSONSerialization.jsonObject(with: Data(JSONOutput.stats(stats).utf8)) as? [String: Any])
        #expect(
            statsObject["queued"] as? Int == 4 && statsObject["rejected"] as? Int == 3
                && statsObject["workers"] as? Int == 2)
        let tenants = try #require(statsObject["tenants"] as? [[String: Any]])
        #expect(tenants.first?["name"] as? String == "acme" && tenants.first?["admitted"] as? Int == 10)

        let rejected = PixelFlowClientError(wire: .rateLimited, message: "over 5/s", retryAfterMilliseconds: 250)
        let errorObject = try #require(
            try JSONSerialization.jsonObject(with: Data(JSONOutput.error(rejected).utf8)) as? [String: Any])
        let body = try #require(errorObject["error"] as? [String: Any])
        #expect(body["code"] as? String == "rate_limited" && body["retry_after_ms"] as? Int == 250)
    }

    @Test func workersTableAlignsColumns() {
        let text = TextOutput.workers([
            .init(
                name: "worker-long-name", address: "127.0.0.1:1", slots: 2, busy: 1, done: 10, failed: 0,
                lastHeartbeatMillisecondsAgo: 1_500),
            .init(
                name: "w2", address: "127.0.0.1:22", slots: 16, busy: 0, done: 3, failed: 1,
                lastHeartbeatMillisecondsAgo: 20),
        ])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("NAME              ADDRESS       SLOTS"))
        #expect(lines[1].hasSuffix("1.5 s ago") && lines[2].hasSuffix("0.0 s ago"))
        let column = lines[0].range(of: "ADDRESS")!.lowerBound.utf16Offset(in: lines[0])
        #expect(lines[2].dropFirst(column).hasPrefix("127.0.0.1:22"))
    }
}
