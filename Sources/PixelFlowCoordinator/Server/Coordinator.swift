import Logging
import NIOCore
import PixelFlowLocking
import PixelFlowObjects
import PixelFlowProtocol
import PixelFlowStore
import Prometheus
import Synchronization

/// Checks a pipeline's JSON before a job is queued; returns what the scheduler needs to know of it.
public typealias PipelineValidator = @Sendable (ByteBuffer) -> Result<PipelineSummary, ProtocolError>

/// The coordinator shared by every connection: the cluster state machine, the live connections its actions are
/// delivered to and the failed-login table, behind one lock. Connections ask it through `perform` (Coordinator+
/// Requests.swift); deliveries to other connections always run after the lock is released.
public final class Coordinator: Sendable {
    public let settings: CoordinatorSettings
    public let secrets: any SecretLookup
    let validatePipeline: PipelineValidator
    let metrics: CoordinatorMetrics
    /// The registry `/metrics` shows, for other parts of the process to add their metrics to (the HTTP API).
    public var metricsRegistry: PrometheusCollectorRegistry { metrics.registry }
    let tenantPolicies: [String: TenantPolicy]
    private let nextConnection = Atomic<UInt64>(1)
    /// Connections open on the protocol port, against `limits.max_connections`.
    let connectionGate: ConnectionGate
    let shared: Locked<Shared>
    /// Where async jobs are kept (nil: memory only). Written by one writer task (Coordinator+Store.swift).
    let store: (any JobStore)?
    let storeSignals: AsyncStream<Void>
    let storeSignal: AsyncStream<Void>.Continuation
    /// Delivers the store's webhook outbox (nil without a store).
    let webhooks: WebhookDispatcher?
    /// Bounds the stored variant bytes FETCHes hold in memory at once (`limits.max_fetch_bytes`).
    let fetchBudget: ByteBudget
    /// HTTP requests waiting for a job they started or deleted to be stored.
    let commitWaiters = CommitWaiters()
    /// Drafts and idempotency keys an HTTP request is changing.
    let draftsInProgress = ClaimSet()
    /// Where `s3_presigned` jobs keep their source and results (`objects.s3`).
    let objects: ObjectStorage?
    /// Fetches `url` sources (`sources.*`).
    let sourceFetcher: SourceFetcher
    /// Ended jobs as the store last gave them, by id, with their tenant (`api.cached_jobs`).
    let endedJobs: Locked<RecentMap<JobID, (tenant: String, lookup: StoredLookup)>>
    /// Counts deletions, so a read that overlapped one does not put back what it deleted.
    let jobDeletions = Atomic<UInt64>(0)

    /// Everything behind the coordinator's one lock.
    struct Shared {
        var cluster: ClusterState
        var connections: [UInt64: ConnectionHandle] = [:]
        /// The connection each registered worker speaks on.
        var workerConnections: [WorkerID: UInt64] = [:]
        var loginThrottle: LoginThrottle
        /// Steps waiting for their store writes to commit, with what they will tell others then.
        var storeQueue = StoreQueue()
        /// Set by a graceful shutdown: told each time a step leaves no live job.
        var drained: AsyncStream<Void>.Continuation?

        /// Wakes a waiting shutdown once the last admitted job has ended — when `deliveries` are sent, after the
        /// last job's results: woken at once, the shutdown's closing GOAWAY could reach a client's event loop
        /// before the JOB_DONE another thread was about to hand it.
        func reportIfDrained(into deliveries: inout Deliveries) {
            guard let drained, isDrained else { return }
            deliveries.wake(drained)
        }

        /// No admitted job is left (what a graceful shutdown waits for).
        var isDrained: Bool { cluster.liveJobCount == 0 }
    }

    /// Connection-level events (refused handshakes, protocol errors, workers joining and leaving) and, at debug
    /// level, every job's admission, assignment and outcome with `job_id`, `tenant`, `attempt` and `worker`.
    let logger: Logger

    /// `store` and `recovered` (what it held at start) make async jobs durable. `storeProblem`, without a store:
    /// the store could not be opened, so async jobs are refused with `storage_error` and `/readyz` says why.
    public init(
        settings: CoordinatorSettings, tenants: [TenantPolicy], workerKeys: [String: [UInt8]],
        validatePipeline: @escaping PipelineValidator = PipelineRules.validate,
        store: (any JobStore)? = nil, recovered: RecoveredState? = nil, storeProblem: String? = nil,
        webhooks: WebhookSettings = WebhookSettings(), objects: ObjectsConfig? = nil,
        sources: SourceSettings = SourceSettings(), logger: Logger = Logger(label: "pixelflow.coordinator")
    ) {
        self.sourceFetcher = SourceFetcher(settings: sources)
        self.endedJobs = Locked(RecentMap(capacity: settings.apiCachedJobs))
        self.objects = objects.flatMap(ObjectStorage.init)
        self.settings = settings
        self.store = store
        self.fetchBudget = ByteBudget(capacity: settings.maxFetchBytes)
        self.connectionGate = ConnectionGate(limit: settings.maxConnections)
        var webhookSecrets: [String: [UInt8]] = [:]
        for tenant in tenants { webhookSecrets[tenant.keyID] = tenant.webhookSecret }
        let metrics = CoordinatorMetrics()
        self.metrics = metrics
        self.webhooks = store.map {
            WebhookDispatcher(
                store: $0, settings: webhooks, secrets: webhookSecrets, metrics: metrics, logger: logger)
        }
        (storeSignals, storeSignal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.logger = logger
        self.validatePipeline = validatePipeline
        self.tenantPolicies = Dictionary(tenants.map { ($0.keyID, $0) }, uniquingKeysWith: { first, _ in first })
        var table: [StaticSecrets.Key: [UInt8]] = [:]
        for tenant in tenants { table[.init(keyID: tenant.keyID, role: .client)] = tenant.secret }
        for (keyID, secret) in workerKeys { table[.init(keyID: keyID, role: .worker)] = secret }
        self.secrets = StaticSecrets(table)
        let throttle = LoginThrottle(
            failuresBeforeBackoff: settings.authFailuresBeforeBackoff, backoff: settings.authBackoff,
            maxBackoff: settings.authMaxBackoff, capacity: settings.authTrackedAddresses)
        let now = NIODeadline.now()
        var cluster = ClusterState(settings: settings, tenants: tenants, now: now)
        cluster.setStoreProblem(storeProblem)
        var storeQueue = StoreQueue()
        if store != nil, let recovered {
            _ = cluster.restore(from: recovered, now: now)  // nobody is connected yet: only the writes matter
            storeQueue.append(cluster.takeStoreWrites(), Deliveries())
            storeSignal.yield()
        }
        self.shared = Locked(Shared(cluster: cluster, loginThrottle: throttle, storeQueue: storeQueue))
    }

    // MARK: Connections

    /// A connection id never handed out before.
    func newConnectionID() -> UInt64 {
        nextConnection.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    func register(_ handle: ConnectionHandle) {
        shared.withLock { $0.connections[handle.id] = handle }
    }

    func unregister(_ id: UInt64) {
        _ = shared.withLock { $0.connections.removeValue(forKey: id) }
    }

    /// Leases, retries and deadlines that are due.
    func tick() {
        let now = NIODeadline.now()
        shared.withLock { shared in
            let actions = shared.cluster.tick(now: now)
            var deliveries = settle(route(actions, in: shared), in: &shared)
            shared.reportIfDrained(into: &deliveries)
            return deliveries
        }.send()
    }

    // MARK: Shutdown

    /// Graceful shutdown (PROTOCOL.md §10.6): new jobs are refused and clients are told GOAWAY(shutting_down);
    /// admitted jobs (queued ones too) keep running on the workers and their streams finish, for at most `grace`.
    /// Then every connection, workers' included, gets GOAWAY(shutting_down) and is closed: workers reconnect
    /// with backoff to whichever coordinator comes back.
    public func shutdown(grace: TimeAmount, message: String = "the coordinator is shutting down") async {
        let goAway = GoAway(code: .shuttingDown, message: message)
        let (drained, report) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let open = shared.withLock { shared in
            shared.cluster.stopAdmitting()
            shared.drained = report
            if shared.isDrained { report.yield() }  // no job live: nothing of theirs left to deliver first
            return Array(shared.connections.values)
        }
        for handle in open { handle.deliver(.goAway(goAway, close: false, clientsOnly: true)) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in drained { return }
            }
            group.addTask { try? await Task.sleep(for: .nanoseconds(grace.nanoseconds)) }
            await group.next()
            group.cancelAll()
        }
        let handles = shared.withLock { shared in
            shared.drained = nil
            return Array(shared.connections.values)
        }
        report.finish()
        for handle in handles { handle.deliver(.goAway(goAway, close: true, clientsOnly: false)) }
        for handle in handles { try? await handle.closeFuture.get() }
    }

    // MARK: Views

    public var discardedResults: UInt64 { shared.withLock { $0.cluster.discardedResults } }

    public var isReady: Bool { shared.withLock { $0.cluster.hasCapacity && $0.cluster.storeProblem == nil } }

    /// Why `/readyz` fails, or nil when ready.
    public var unreadyReason: String? {
        shared.withLock { shared in
            if let problem = shared.cluster.storeProblem { return "the job store is failing: \(problem)" }
            return shared.cluster.hasCapacity ? nil : "no worker has capacity"
        }
    }

    public var stats: Stats { shared.withLock { $0.cluster.stats } }

    /// Each tenant's metered usage since the job store began (since start without a store).
    public var usageTotals: [String: UsageCounts] { shared.withLock { $0.cluster.usageTotals } }

    func isAdmin(_ tenant: String) -> Bool { tenantPolicies[tenant]?.isAdmin ?? false }

    /// STATS as a tenant sees it (PROTOCOL.md §6.2): an operator key sees the cluster and every tenant; any other
    /// tenant sees only its own counters, as `total` and as its one tenant entry.
    func stats(_ stats: Stats, for tenant: String) -> Stats {
        guard !isAdmin(tenant) else { return stats }
        var view = stats
        view.tenants.removeAll { $0.name != tenant }
        view.total = view.tenants.first?.counters ?? Stats.Counters()
        return view
    }

    /// Every worker with its address: the operator's view (/metrics).
    func workerList() -> [WorkerList.Worker] { shared.withLock { $0.cluster.workerList(now: .now()) } }
}

/// A live connection, reachable from any thread: deliveries hop onto its event loop.
struct ConnectionHandle: Sendable {
    let id: UInt64
    let eventLoop: any EventLoop
    let handler: NIOLoopBound<CoordinatorConnectionHandler>
    let closeFuture: EventLoopFuture<Void>

    func deliver(_ delivery: Delivery) {
        deliver([delivery])
    }

    /// Several deliveries in one hop: from another thread, each hop costs a lock and often a wakeup.
    func deliver(_ deliveries: [Delivery]) {
        if eventLoop.inEventLoop {
            handler.value.deliver(deliveries)
        } else {
            let handler = self.handler
            eventLoop.execute { handler.value.deliver(deliveries) }
        }
    }
}

/// Who asks: the connection a request comes from.
struct ConnectionInfo: Sendable {
    var id: UInt64
    /// host:port, for logs and the worker list.
    var address: String
    /// The address alone: failed logins are counted per host.
    var host: String
}
