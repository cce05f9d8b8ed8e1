import PixelFlowProtocol

/// The cluster's counters and each tenant's, as ``PixelFlowClient/stats()`` returns them. A tenant that is not an
/// administrator sees only its own counters.
public struct ClusterStats: Sendable, Hashable {
    /// Job counters, for the whole cluster or one tenant.
    public struct Counters: Sendable, Hashable {
        /// Jobs waiting for a worker slot (the queue depth).
        public var queued: Int
        /// Jobs running on a worker.
        public var running: Int
        /// Jobs admitted since the coordinator started.
        public var admitted: Int
        /// Submissions refused (rate limit, full queue…).
        public var rejected: Int
        /// Jobs that succeeded.
        public var succeeded: Int
        /// Jobs that failed.
        public var failed: Int

        /// Makes counters, e.g. for a test double of code that handles them; omitted counters are zero.
        public init(
            queued: Int = 0, running: Int = 0, admitted: Int = 0, rejected: Int = 0, succeeded: Int = 0, failed: Int = 0
        ) {
            self.queued = queued
            self.running = running
            self.admitted = admitted
            self.rejected = rejected
            self.succeeded = succeeded
            self.failed = failed
        }

        init(wire counters: Stats.Counters) {
            self.init(
                queued: Int(counters.queued), running: Int(counters.running),
                admitted: Int(clamping: counters.admitted), rejected: Int(clamping: counters.rejected),
                succeeded: Int(clamping: counters.succeeded), failed: Int(clamping: counters.failed))
        }
    }

    /// One tenant's counters.
    public struct Tenant: Sendable, Hashable {
        /// The tenant's key id.
        public var name: String
        /// The tenant's jobs.
        public var counters: Counters

        /// Makes a tenant entry, e.g. for a test double.
        public init(name: String, counters: Counters) {
            self.name = name
            self.counters = counters
        }
    }

    /// Counters over every tenant the caller may see.
    public var total: Counters
    /// Workers registered.
    public var workers: Int
    /// Per-tenant counters.
    public var tenants: [Tenant]

    /// Makes statistics, e.g. for a test double of code that handles them.
    public init(total: Counters, workers: Int, tenants: [Tenant]) {
        self.total = total
        self.workers = workers
        self.tenants = tenants
    }

    init(wire stats: Stats) {
        self.init(
            total: Counters(wire: stats.total), workers: Int(stats.workers),
            tenants: stats.tenants.map { Tenant(name: $0.name, counters: Counters(wire: $0.counters)) })
    }
}
