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
    /// Source bytes this tenant's jobs may hold at once (`tenants[i].max_source_bytes`); nil: the settings' default
    /// `queue.tenant_max_source_bytes`. Keeps one tenant's uploads from taking the whole held-source budget.
    public var maxHeldSourceBytes: UInt64?
    /// An operator key: STATS shows every tenant and WORKERS shows addresses, not only this tenant's view.
    public var isAdmin: Bool
    /// The key its webhooks are signed with (`tenants[i].webhook_secret`); without one, its jobs may not name a
    /// `webhook_url`.
    public var webhookSecret: [UInt8]?
    /// SHA-256 of the tenant's HTTP API bearer token (`tenants[i].api_token_sha256`, hex): the token itself is not
    /// kept. Nil: the tenant cannot use the HTTP API.
    public var apiTokenSHA256: [UInt8]?

    public init(
        keyID: String, secret: [UInt8], rate: Double = 100, burst: Double = 200, maxQueued: Int = 1_000,
        maxHeldSourceBytes: UInt64? = nil, isAdmin: Bool = false, webhookSecret: [UInt8]? = nil,
        apiTokenSHA256: [UInt8]? = nil
    ) {
        self.webhookSecret = webhookSecret
        self.apiTokenSHA256 = apiTokenSHA256
        self.keyID = keyID
        self.secret = secret
        self.rate = rate
        self.burst = burst
        self.maxQueued = maxQueued
        self.maxHeldSourceBytes = maxHeldSourceBytes
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
    /// Slowest average upload accepted: a source must be complete within `uploadIdleTimeout` plus its size at
    /// this rate (`limits.min_upload_bytes_per_second`), so a trickle cannot hold budget for long.
    public var minUploadBytesPerSecond: UInt64 = 256 * 1024
    /// An authenticated connection with no open request and no frame for this long is closed with
    /// GOAWAY(idle_timeout) (`limits.idle_timeout_ms`). Clients keep idle connections open with PING.
    public var idleTimeout: TimeAmount = .seconds(60)
    /// A frame whose first byte arrived this long ago and that is still incomplete closes the connection with
    /// GOAWAY(idle_timeout) (`limits.frame_timeout_ms`).
    public var frameTimeout: TimeAmount = .seconds(30)
    /// Bytes queued towards one peer beyond which the coordinator stops dispatching jobs whose results go only
    /// to that peer (`limits.max_outbound_bytes`). Reading from a peer stops earlier, once its socket is full.
    public var maxOutboundBytes: UInt64 = 32 << 20
    /// Stored variant bytes read for FETCHes and not yet passed to a socket, across every connection
    /// (`limits.max_fetch_bytes`): FETCHes beyond it wait their turn. A FETCH reads one variant at a time, and the
    /// next only once its connection has sent the last one down to `max_outbound_bytes`.
    public var maxFetchBytes: UInt64 = 256 << 20
    /// A peer that reads nothing of what is queued for it for this long gets GOAWAY(slow_reader) and is
    /// disconnected; its stream-mode jobs are cancelled (`limits.write_stall_timeout_ms`).
    public var writeStallTimeout: TimeAmount = .seconds(30)
    /// Connections open at once, clients and workers together (`limits.max_connections`): one more is closed as
    /// soon as it is accepted, before anything is sent, so a flood cannot exhaust the process's file descriptors.
    public var maxConnections = 16_384
    /// Threads serving the protocol port (`event_loops`), one per core by default. Every job passes the cluster
    /// state's lock, so fewer loops cost less CPU per job (one loop: 5–9 µs less of ≈ 45 measured, no hops between
    /// threads); but the worker then gets its tasks in smaller batches and throughput of tiny jobs fell to 0.8–1.0×
    /// on 2 cores (docs/scaling.md), so the default keeps one per core.
    public var eventLoops = System.coreCount
    /// Failed handshakes from one address before it must wait (`auth.failures_before_backoff`).
    public var authFailuresBeforeBackoff = 5
    /// The first wait after that; doubles with each further failure (`auth.backoff_ms`, `auth.max_backoff_ms`).
    public var authBackoff: TimeAmount = .seconds(1)
    public var authMaxBackoff: TimeAmount = .seconds(60)
    /// Addresses whose failures are remembered, at most (`auth.tracked_addresses`); the oldest are forgotten.
    public var authTrackedAddresses = 10_000
    /// On SIGTERM, how long open streams and running jobs may take to finish before connections close
    /// (`shutdown.grace_ms`).
    public var shutdownGrace: TimeAmount = .seconds(15)
    /// Jobs waiting for a worker across all tenants (`queue.max_jobs`).
    public var maxQueuedJobs = 10_000
    /// Source bytes held for waiting and running jobs (`queue.max_source_bytes`); bounds the coordinator's memory.
    public var maxHeldSourceBytes: UInt64 = 1 << 30
    /// Source bytes one tenant may hold unless its policy says otherwise (`queue.tenant_max_source_bytes`,
    /// default a quarter of `queue.max_source_bytes`).
    public var tenantMaxHeldSourceBytes: UInt64 = 1 << 28
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
    /// How long a stored job and its results are kept after it ends (`jobs.result_ttl`).
    public var resultTTL: TimeAmount = .hours(24)
    /// How often expired jobs are deleted from the store (`jobs.expiry_sweep_interval_ms`).
    public var expirySweepInterval: TimeAmount = .seconds(60)
    /// Most writes in one store transaction (`store.max_batch`).
    public var maxPendingStoreWrites = 1024
    /// How often metered usage is written to the store (`usage.flush_interval_ms`): at most this much is lost
    /// when the coordinator is killed.
    public var usageFlushInterval: TimeAmount = .seconds(5)
    /// How long hourly usage buckets are kept (`usage.retention`).
    public var usageRetention: TimeAmount = .hours(24 * 365)
    /// A job created over the HTTP API and never started is deleted after this (`api.draft_ttl`).
    public var draftTTL: TimeAmount = .hours(24)
    /// Ended jobs whose HTTP answer is kept in memory (`api.cached_jobs`; 0: none): they change only when deleted
    /// or expired, and clients poll them.
    public var apiCachedJobs = 10_000

    public init() {}
}
