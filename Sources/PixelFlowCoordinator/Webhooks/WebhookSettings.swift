import NIOCore

/// How webhooks are delivered (config `webhooks.*`).
public struct WebhookSettings: Sendable {
    /// Addresses a webhook may reach although they are loopback, private or link-local (`webhooks.allow`: CIDR
    /// blocks such as `127.0.0.1/32` or `10.0.0.0/8`, or single addresses).
    public var allow: [AddressBlock] = []
    /// Per attempt: connect, send, and the answer's head (`webhooks.timeout_ms`).
    public var timeout: TimeAmount = .seconds(5)
    /// First retry delay, doubling per attempt (`webhooks.retry_backoff_ms`), up to `webhooks.retry_backoff_max_ms`.
    public var retryBackoff: TimeAmount = .seconds(1)
    public var retryBackoffMax: TimeAmount = .minutes(10)
    /// How long after the job ended an event is still retried (`webhooks.max_retry_duration`); then it fails.
    public var maxRetryDuration: TimeAmount = .hours(24)
    /// Deliveries in flight at once (`webhooks.max_concurrent`).
    public var maxConcurrent = 16
    /// An answer's body is read up to this many bytes, the rest ignored.
    public var maxResponseBytes = 64 * 1024

    public init() {}

    /// The delay before attempt `attempts + 1`, given `attempts` failed so far: backoff doubling, capped, with up to
    /// a fifth taken off at random so receivers that failed together are not retried together.
    func delay(afterAttempts attempts: Int, jitter: Double) -> TimeAmount {
        let doubled = retryBackoff.nanoseconds << Int64(min(max(attempts - 1, 0), 30))
        let capped = min(doubled, retryBackoffMax.nanoseconds)
        return .nanoseconds(capped - Int64(Double(capped) * 0.2 * jitter))
    }
}
