import NIOCore
import PixelFlowProtocol

/// One tenant: its client key, and how much of the cluster it may use.
public struct TenantPolicy: Sendable, Hashable {
    /// The key id the tenant's clients authenticate with; also the tenant's name in stats.
    public var keyID: String
    public var secret: [UInt8]
    /// Jobs per second, sustained.
    public var rate: Double
    /// Jobs admitted at once after an idle period.
    public var burst: Double
    /// Jobs of this tenant waiting for a worker, at most.
    public var maxQueued: Int
    /// An operator key: STATS shows every tenant, not only this one.
    public var isAdmin: Bool

    public init(keyID: String, secret: [UInt8], rate: Double = 100, burst: Double = 200, maxQueued: Int = 1_000, isAdmin: Bool = false) {
        self.keyID = keyID
        self.secret = secret
        self.rate = rate
        self.burst = burst
        self.maxQueued = maxQueued
        self.isAdmin = isAdmin
    }
}

/// Everything the coordinator's behaviour depends on, with defaults. The config file's keys are listed in
/// the README; each field's comment names its key.
public struct CoordinatorSettings: Sendable {
    /// Wire limits, stated to peers in AUTH_OK (`limits.*`).
    public var limits = ProtocolLimits.default
    /// An admitted job whose client sends no source bytes for this long fails (`limits.upload_idle_timeout_ms`).
    public var uploadIdleTimeout: TimeAmount = .seconds(30)
    /// Jobs waiting for a worker across all tenants (`queue.max_jobs`).
    public var maxQueuedJobs = 10_000
    /// Source bytes held for waiting and running jobs (`queue.max_source_bytes`); bounds the coordinator's memory.
    public var maxHeldSourceBytes: UInt64 = 1 << 30
    /// The `retry_after_ms` of a queue_full rejection (`queue.full_retry_after_ms`).
    public var queueFullRetryAfter: TimeAmount = .milliseconds(500)
    /// How long a lease lasts unless a heartbeat renews it (`workers.lease_ms`).
    public var lease: TimeAmount = .seconds(10)
    /// How often workers send HEARTBEAT (`workers.heartbeat_interval_ms`).
    public var heartbeatInterval: TimeAmount = .seconds(1)
    /// Attempts per job before it fails with retries_exhausted (`jobs.max_attempts`).
    public var maxAttempts: UInt16 = 3
    /// First retry delay after a transient failure; doubles per attempt (`jobs.retry_backoff_ms`).
    public var retryBackoff: TimeAmount = .milliseconds(200)
    /// Longest retry delay (`jobs.retry_backoff_max_ms`).
    public var retryBackoffMax: TimeAmount = .seconds(5)
    /// Time a worker may spend on one task (`jobs.time_limit_ms`).
    public var taskTimeLimit: TimeAmount = .seconds(60)
    /// Finished jobs remembered for STATUS and WATCH (`jobs.max_finished`).
    public var maxFinishedJobs = 100_000

    public init() {}
}
