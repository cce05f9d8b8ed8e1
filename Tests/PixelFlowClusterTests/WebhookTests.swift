import Foundation
import PixelFlowClient
import Testing

extension LiveCluster {
    /// Signed webhooks from a real coordinator to a real local HTTP receiver.
    @Suite("Webhooks to a live receiver", .serialized)
    struct WebhookTests {
        static let pipeline = #"[{"id":"thumb","action":"resize","width":64,"format":"webp"}]"#

        static func cluster(webhooks: [String: Any]) throws -> ClusterProcesses {
            try ClusterProcesses(
                extraConfig: ["webhooks": webhooks],
                tenants: [
                    [
                        "key_id": "acme", "secret": ClusterProcesses.tenantSecret, "rate": 1000, "burst": 1000,
                        "max_queued": 10_000, "admin": true, "webhook_secret": WebhookReceiver.secret,
                    ]
                ])
        }

        @Test(
            "a receiver answering 500 three times then 200: one event id, four signed deliveries with growing gaps, the variants in the body"
        )
        func retriedUntilDelivered() async throws {
            let cluster = try Self.cluster(webhooks: [
                "allow": ["127.0.0.1/32"], "retry_backoff_ms": 200, "retry_backoff_max_ms": 5000,
            ])
            let receiver = try WebhookReceiver(directory: cluster.directory, failFirst: 3)
            try cluster.startCoordinator()
            try cluster.startWorker("w1", extra: ["--null-engine"])
            try await cluster.waitForWorkers(1)
            let job = try await DurableJobTests.connect(cluster) { client in
                try await client.submit(
                    source: Array("webhook source".utf8), pipeline: Self.pipeline, webhookURL: receiver.url)
            }
            let deliveries = await receiver.wait(timeout: .seconds(20)) { $0.contains { $0.status == 200 } }
            #expect(deliveries.map(\.status) == [500, 500, 500, 200])
            #expect(Set(deliveries.map(\.eventID)).count == 1, "the event id changed between attempts")
            #expect(deliveries.allSatisfy { $0.signatureOK }, "a delivery's signature did not verify")
            let gaps = zip(deliveries.dropFirst(), deliveries).map { $0.time - $1.time }
            // 200 ms doubling, less at most a fifth of jitter: ≥ 0.16, 0.32, 0.64 s.
            #expect(gaps.count == 3 && gaps[0] >= 0.15 && gaps[1] >= 0.3 && gaps[2] >= 0.6, "gaps \(gaps)")
            let body = try #require(deliveries.last?.body)
            #expect(body["job_id"] as? Int == Int(job.rawValue))
            #expect(body["state"] as? String == "succeeded" && body["type"] as? String == "job.succeeded")
            #expect((body["variants"] as? [[String: Any]])?.first?["id"] as? String == "thumb")
            #expect(try await cluster.metric(#"pixelflow_webhook_deliveries_total{outcome="delivered"}"#) == 1)
        }

        @Test("the documented verification accepts the right signature and refuses a wrong one or a changed body")
        func verificationExample() throws {
            let now = Int64(Date().timeIntervalSince1970)
            let body = #"{"event_id":"evt_1","job_id":7}"#
            let right = WebhookReceiver.signature(body: body, secret: WebhookReceiver.secret, timestamp: now)
            #expect(try WebhookReceiver.verify(secret: WebhookReceiver.secret, header: right, body: body))
            #expect(!(try WebhookReceiver.verify(secret: "another-secret-0123456789", header: right, body: body)))
            #expect(!(try WebhookReceiver.verify(secret: WebhookReceiver.secret, header: right, body: body + " ")))
            let old = WebhookReceiver.signature(body: body, secret: WebhookReceiver.secret, timestamp: now - 3600)
            #expect(!(try WebhookReceiver.verify(secret: WebhookReceiver.secret, header: old, body: body)))
            let documented = try String(
                contentsOf: WebhookReceiver.repository.appendingPathComponent("docs/webhooks.md"), encoding: .utf8)
            let example = try String(
                contentsOf: WebhookReceiver.repository.appendingPathComponent("docs/webhook_verify.py"), encoding: .utf8
            )
            #expect(documented.contains(example), "docs/webhooks.md does not show docs/webhook_verify.py as it is")
        }

        @Test(
            "a receiver down for the whole retry window: the event fails, the metrics say so, the coordinator serves on; a private address is refused unless allowed"
        )
        func givenUp() async throws {
            let cluster = try Self.cluster(webhooks: [
                // Short attempts: a refused connection is retried inside one attempt until its timeout.
                "allow": ["127.0.0.1/32"], "retry_backoff_ms": 100, "retry_backoff_max_ms": 400,
                "max_retry_duration": "2s", "timeout_ms": 200,
            ])
            try cluster.startCoordinator()
            try cluster.startWorker("w1", extra: ["--null-engine"])
            try await cluster.waitForWorkers(1)
            try await DurableJobTests.connect(cluster) { client in
                // Port 9 (discard) on loopback: nothing listens there.
                let job = try await client.submit(
                    source: Array("down".utf8), pipeline: Self.pipeline, webhookURL: "http://127.0.0.1:9/hook")
                _ = try await client.wait(job)
                // 127.0.0.2 is loopback but not in webhooks.allow: refused without an attempt on the wire.
                _ = try await client.wait(
                    try await client.submit(
                        source: Array("private".utf8), pipeline: Self.pipeline, webhookURL: "http://127.0.0.2:9/hook"))
            }
            let deadline = ContinuousClock.now + .seconds(15)
            var failed = 0.0
            while ContinuousClock.now < deadline {
                failed = try await cluster.metric(#"pixelflow_webhook_deliveries_total{outcome="gave_up"}"#) ?? 0
                if failed >= 2 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(failed == 2)
            var attempts = failed
            for outcome in ["retry", "delivered"] {
                attempts +=
                    try await cluster.metric(#"pixelflow_webhook_deliveries_total{outcome=""# + outcome + #""}"#) ?? 0
            }
            #expect(attempts >= 4, "the unreachable receiver was not retried: \(attempts) attempts in all")
            #expect(cluster.log("coordinator").contains("not in webhooks.allow"))
            #expect(cluster.isCoordinatorRunning)
        }
    }
}
