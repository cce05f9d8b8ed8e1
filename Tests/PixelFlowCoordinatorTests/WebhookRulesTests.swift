import NIOCore
import PixelFlowProtocol
import PixelFlowStore
import Testing

@testable import PixelFlowCoordinator

/// The pure parts of webhooks: the SSRF address rules, the signature, the backoff, the event body, and the
/// outbox write a job's end leaves.
@Suite("Webhook rules")
struct WebhookRulesTests {
    @Test("loopback, private, link-local and CGNAT addresses are refused unless allowed; public ones pass")
    func addresses() async {
        let strict = AddressGuard(allow: [])
        for url in [
            "http://127.0.0.1:8080/h", "http://10.1.2.3/h", "http://172.16.0.1/", "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data", "http://100.64.0.1/", "http://[::1]:80/", "http://[fe80::1]/",
            "http://[fd00::1]/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/",
        ] {
            #expect(await strict.problem(with: url) != nil, "\(url) was allowed")
        }
        #expect(await strict.problem(with: "https://93.184.216.34/hook") == nil)
        #expect(await strict.problem(with: "https://[2606:4700::1111]/hook") == nil)
        let allowing = AddressGuard(allow: ["127.0.0.1/32", "10.0.0.0/8"].compactMap(AddressBlock.init))
        #expect(await allowing.problem(with: "http://127.0.0.1:9/h") == nil)
        #expect(await allowing.problem(with: "http://10.200.0.1/h") == nil)
        #expect(await allowing.problem(with: "http://127.0.0.2/h") != nil)
        #expect(AddressBlock("10.0.0.0/33") == nil && AddressBlock("not an address") == nil)
        #expect(AddressBlock("10.0.0.0/8")?.description == "10.0.0.0/8")
    }

    @Test("the signature is HMAC-SHA256 of \"<t>.<body>\" under the tenant's webhook secret, in hex")
    func signature() {
        let value = WebhookSignature.value(
            body: Array(#"{"a":1}"#.utf8), secret: Array("webhook-secret-0123456789".utf8), timestamp: 1_700_000_000)
        #expect(value == "t=1700000000,v1=b46be92da8d98b9148d7d2f909e797a591600b083e62e63ead756723292b1a50")
    }

    @Test("retries back off doubling from webhooks.retry_backoff_ms to its cap, a fifth of jitter at most")
    func backoff() {
        var settings = WebhookSettings()
        settings.retryBackoff = .seconds(1)
        settings.retryBackoffMax = .seconds(10)
        #expect(settings.delay(afterAttempts: 1, jitter: 0) == .seconds(1))
        #expect(settings.delay(afterAttempts: 3, jitter: 0) == .seconds(4))
        #expect(settings.delay(afterAttempts: 9, jitter: 0) == .seconds(10))
        #expect(settings.delay(afterAttempts: 2, jitter: 1) == .milliseconds(1600))
    }

    @Test("a job with a webhook leaves one outbox event when it ends, with its variants and a stable id")
    func outboxEvent() throws {
        let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var state = ClusterState(
            settings: CoordinatorSettings(),
            tenants: [
                TenantPolicy(keyID: "acme", secret: [1], webhookSecret: Array("0123456789abcdef".utf8)),
                TenantPolicy(keyID: "plain", secret: [2]),
            ], now: now)
        _ = state.restore(
            from: RecoveredState(
                nextJobID: 1, reservedThrough: 1 << 30, liveJobs: [], recentlyFinished: [], storeID: "s1"),
            now: now)
        _ = state.registerWorker(name: "w", address: "a", slots: 1, formats: [], now: now)
        let submit = Submit(
            mode: .stream, webhookURL: "https://receiver.example/hook", sourceSize: 1,
            pipeline: ByteBuffer(string: "[]"))
        #expect(
            state.admit(tenant: "plain", submit: submit, variantCount: 1, subscriber: nil, now: now)
                == .rejected(
                    ProtocolError(
                        .invalidRequest,
                        "webhook_url given, but tenant 'plain' has no webhook_secret in the configuration to sign webhooks with"
                    )))
        guard
            case .admitted(let id) = state.admit(
                tenant: "acme", submit: submit, variantCount: 1, subscriber: nil, now: now)
        else {
            Issue.record("not admitted")
            return
        }
        _ = state.sourceReceived(id, source: .chunks([Chunk(raw: ByteBuffer(bytes: [1]), isLast: true)]), now: now)
        let header = VariantHeader(
            jobID: id, attempt: 1, variantID: "thumb", format: "webp", width: 150, height: 100, size: 321,
            elapsedMilliseconds: 4)
        _ = state.variantFinished(header, worker: 1, now: now)
        _ = state.taskDone(worker: 1, job: id, attempt: 1, now: now)
        let writes = state.takeStoreWrites()
        guard case .enqueueWebhook(let event) = writes.last else {
            Issue.record("no outbox event: \(writes)")
            return
        }
        #expect(event.eventID == "evt_s1_\(id)" && event.url == "https://receiver.example/hook")
        let body = String(buffer: event.body)
        #expect(body.hasPrefix(#"{"event_id":"evt_s1_1","type":"job.succeeded","job_id":1,"tenant":"acme","#))
        #expect(body.contains(#""variants":[{"id":"thumb","format":"webp","width":150,"height":100,"bytes":321}]"#))
        #expect(body.hasSuffix(#""error":null}"#))
    }

    @Test("JSON strings are escaped")
    func escaping() {
        #expect(WebhookEventBody.quoted("a\"b\\c\n\u{1}") == #""a\"b\\c\n\u0001""#)
    }
}
