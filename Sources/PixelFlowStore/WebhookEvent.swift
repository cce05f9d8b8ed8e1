import NIOCore

/// A webhook event waiting in the store's outbox: delivered at least once, retried with backoff, its id the same
/// on every attempt so a receiver can drop repeats.
public struct WebhookEvent: Sendable, Hashable {
    public var eventID: String
    public var jobID: UInt64
    public var tenant: String
    public var url: String
    /// The JSON body, exactly as it is signed and sent.
    public var body: ByteBuffer
    /// Unix ms.
    public var createdAt: Int64
    /// Attempts made so far.
    public var attempts: Int

    public init(
        eventID: String, jobID: UInt64, tenant: String, url: String, body: ByteBuffer, createdAt: Int64,
        attempts: Int = 0
    ) {
        self.eventID = eventID
        self.jobID = jobID
        self.tenant = tenant
        self.url = url
        self.body = body
        self.createdAt = createdAt
        self.attempts = attempts
    }
}

/// How one delivery attempt ended, as the outbox records it.
public enum WebhookAttempt: Sendable, Hashable {
    /// A 2xx answer: done.
    case delivered(eventID: String, status: Int, at: Int64)
    /// Anything else while the retry window lasts: tried again at `nextAt`.
    case retry(eventID: String, status: Int?, error: String, nextAt: Int64)
    /// Given up: the window is over, the receiver answered 410 Gone, or the URL may not be called.
    case gaveUp(eventID: String, status: Int?, error: String, at: Int64)
}

/// Where an event stands in the outbox.
public enum WebhookState: Int, Sendable, Hashable, CustomStringConvertible {
    case pending = 0
    case delivered = 1
    case failed = 2

    public var description: String {
        switch self {
        case .pending: "pending"
        case .delivered: "delivered"
        case .failed: "failed"
        }
    }
}
