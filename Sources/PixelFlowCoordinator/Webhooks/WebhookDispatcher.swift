import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PixelFlowStore

/// Delivers the webhook events in the store's outbox, at least once: due events are POSTed with the tenant's
/// signature; a 2xx ends one, 410 Gone stops it, anything else is retried with backoff until
/// `webhooks.max_retry_duration` after the job ended, then it fails. The outbox is in the store, so what was due
/// before a restart is delivered after it. Redirects are not followed.
final class WebhookDispatcher: Sendable {
    private let store: any JobStore
    private let settings: WebhookSettings
    private let secrets: [String: [UInt8]]
    private let guardrail: AddressGuard
    private let client: HTTPClient
    private let logger: Logger
    /// Each attempt's time and outcome (`pixelflow_webhook_deliveries_total{outcome}`, `…_delivery_seconds`).
    private let metrics: CoordinatorMetrics

    init(
        store: any JobStore, settings: WebhookSettings, secrets: [String: [UInt8]], metrics: CoordinatorMetrics,
        logger: Logger
    ) {
        self.metrics = metrics
        self.store = store
        self.settings = settings
        self.secrets = secrets
        self.guardrail = AddressGuard(allow: settings.allow)
        self.logger = logger
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: settings.timeout, read: settings.timeout)
        self.client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    /// Polls the outbox (every 200 ms while idle) until the task is cancelled, then closes the HTTP client.
    func run() async {
        while !Task.isCancelled {
            let now = Self.unixMilliseconds()
            var due: [WebhookEvent] = []
            do {
                due = try await store.dueWebhooks(now: now, limit: settings.maxConcurrent * 4)
            } catch {
                logger.error("webhooks: cannot read the outbox: \(error.message)")
            }
            if !due.isEmpty {
                let results = await deliver(due)
                do {
                    try await store.recordWebhookAttempts(results)
                    continue
                } catch {
                    // The events stay due: they are sent again (at least once), with the same event id, once the
                    // store takes writes again; until then, not in a tight loop.
                    logger.error("webhooks: cannot record \(results.count) attempts: \(error.message)")
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        try? await client.shutdown()
    }

    /// Delivers events, at most `maxConcurrent` at a time.
    private func deliver(_ events: [WebhookEvent]) async -> [WebhookAttempt] {
        await withTaskGroup(of: WebhookAttempt.self) { group in
            var results: [WebhookAttempt] = []
            var pending = events[...]
            for _ in 0..<min(settings.maxConcurrent, pending.count) {
                let event = pending.removeFirst()
                group.addTask { await self.deliver(event) }
            }
            for await result in group {
                results.append(result)
                if let event = pending.popFirst() { group.addTask { await self.deliver(event) } }
            }
            return results
        }
    }

    private func deliver(_ event: WebhookEvent) async -> WebhookAttempt {
        let start = ContinuousClock.now
        let attempt = await attemptDelivery(event)
        let outcome: String
        switch attempt {
        case .delivered: outcome = "delivered"
        case .retry: outcome = "retry"
        case .gaveUp: outcome = "gave_up"
        }
        metrics.webhookAttempt(outcome: outcome, duration: ContinuousClock.now - start)
        return attempt
    }

    private func attemptDelivery(_ event: WebhookEvent) async -> WebhookAttempt {
        let metadata: Logger.Metadata = [
            "event_id": "\(event.eventID)", "job_id": "\(event.jobID)", "attempt": "\(event.attempts + 1)",
        ]
        switch await guardrail.check(event.url) {
        case .refused(let reason): return gaveUp(event, status: nil, reason, metadata)
        case .unresolved(let reason): return retry(event, status: nil, reason, metadata)
        case nil: break
        }
        guard let secret = secrets[event.tenant] else {
            return gaveUp(event, status: nil, "tenant '\(event.tenant)' has no webhook_secret any more", metadata)
        }
        var request = HTTPClientRequest(url: event.url)
        request.method = .POST
        let body = Array(event.body.readableBytesView)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "pixelflow-webhooks")
        request.headers.add(name: "PixelFlow-Event-Id", value: event.eventID)
        request.headers.add(
            name: WebhookSignature.header,
            value: WebhookSignature.value(body: body, secret: secret, timestamp: Self.unixMilliseconds() / 1000))
        request.body = .bytes(event.body)
        let status: Int
        do {
            let response = try await client.execute(request, deadline: .now() + settings.timeout)
            status = Int(response.status.code)
            // The answer's body is read up to the cap, then the connection is dropped with the rest.
            var read = 0
            for try await part in response.body {
                read += part.readableBytes
                if read >= settings.maxResponseBytes { break }
            }
        } catch {
            return retry(event, status: nil, "\(error)", metadata)
        }
        switch status {
        case 200..<300:
            logger.debug("webhook delivered", metadata: metadata.merging(["status": "\(status)"]) { $1 })
            return .delivered(eventID: event.eventID, status: status, at: Self.unixMilliseconds())
        case 410:
            return gaveUp(event, status: status, "the receiver answered 410 Gone", metadata)
        default:
            return retry(event, status: status, "the receiver answered HTTP \(status)", metadata)
        }
    }

    private func retry(
        _ event: WebhookEvent, status: Int?, _ reason: String, _ metadata: Logger.Metadata
    ) -> WebhookAttempt {
        let now = Self.unixMilliseconds()
        let delay = settings.delay(afterAttempts: event.attempts + 1, jitter: Double.random(in: 0...1))
        let nextAt = now + delay.nanoseconds / 1_000_000
        guard nextAt <= event.createdAt + settings.maxRetryDuration.nanoseconds / 1_000_000 else {
            return gaveUp(event, status: status, "\(reason); retried until webhooks.max_retry_duration", metadata)
        }
        logger.debug("webhook will be retried: \(reason)", metadata: metadata)
        return .retry(eventID: event.eventID, status: status, error: reason, nextAt: nextAt)
    }

    private func gaveUp(
        _ event: WebhookEvent, status: Int?, _ reason: String, _ metadata: Logger.Metadata
    ) -> WebhookAttempt {
        logger.warning("webhook failed: \(reason)", metadata: metadata)
        return .gaveUp(eventID: event.eventID, status: status, error: reason, at: Self.unixMilliseconds())
    }

    static func unixMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
