import Logging
import NIOCore
import PixelFlowProtocol
import Synchronization

/// Checks a pipeline's JSON before a job is queued; returns how many variants it has.
public typealias PipelineValidator = @Sendable (ByteBuffer) -> Result<Int, ProtocolError>

/// The coordinator shared by every connection: the cluster state machine behind a lock, and the live
/// connections that its actions are delivered to. Actions always run outside the lock.
public final class Coordinator: Sendable {
    public let settings: CoordinatorSettings
    public let secrets: any SecretLookup
    let validatePipeline: PipelineValidator
    private let state: Mutex<ClusterState>
    private let connections = Mutex<[UInt64: ConnectionHandle]>([:])
    private let nextConnection = Atomic<UInt64>(1)
    let metrics = CoordinatorMetrics()
    private let tenantPolicies: [String: TenantPolicy]
    private let loginThrottle: Mutex<LoginThrottle>

    /// Connection-level events (refused handshakes, protocol errors, workers joining and leaving) and, at debug
    /// level, every job's assignment and outcome with `job_id`, `attempt` and `worker`.
    let logger: Logger

    public init(
        settings: CoordinatorSettings, tenants: [TenantPolicy], workerKeys: [String: [UInt8]],
        validatePipeline: @escaping PipelineValidator, logger: Logger = Logger(label: "pixelflow.coordinator")
    ) {
        self.settings = settings
        self.logger = logger
        self.validatePipeline = validatePipeline
        self.tenantPolicies = Dictionary(tenants.map { ($0.keyID, $0) }, uniquingKeysWith: { first, _ in first })
        var table: [StaticSecrets.Key: [UInt8]] = [:]
        for tenant in tenants { table[.init(keyID: tenant.keyID, role: .client)] = tenant.secret }
        for (keyID, secret) in workerKeys { table[.init(keyID: keyID, role: .worker)] = secret }
        self.secrets = StaticSecrets(table)
        self.state = Mutex(ClusterState(settings: settings, tenants: tenants, now: .now()))
        self.loginThrottle = Mutex(LoginThrottle(
            failuresBeforeBackoff: settings.authFailuresBeforeBackoff, backoff: settings.authBackoff,
            maxBackoff: settings.authMaxBackoff, capacity: settings.authTrackedAddresses))
    }

    // MARK: Failed logins

    /// How long `host` must still wait after repeated failed handshakes; nil when it may try.
    func loginWait(for host: String) -> TimeAmount? {
        loginThrottle.withLock { $0.wait(for: host, now: .now()) }
    }

    func loginFailed(from host: String) {
        loginThrottle.withLock { $0.failed(host, now: .now()) }
    }

    func loginSucceeded(from host: String) {
        loginThrottle.withLock { $0.succeeded(host) }
    }

    // MARK: Connections

    func register(_ handle: ConnectionHandle) -> UInt64 {
        let id = nextConnection.wrappingAdd(1, ordering: .relaxed).oldValue
        connections.withLock { $0[id] = handle }
        return id
    }

    func unregister(_ id: UInt64) {
        _ = connections.withLock { $0.removeValue(forKey: id) }
    }

    private func handle(_ id: UInt64) -> ConnectionHandle? {
        connections.withLock { $0[id] }
    }

    /// Worker ids are mapped to the connection that registered them.
    private let workerConnections = Mutex<[WorkerID: UInt64]>([:])

    // MARK: Events from connections

    func withState<Result>(_ body: (inout ClusterState) -> Result) -> Result {
        state.withLock { body(&$0) }
    }

    /// Runs a state transition, then its actions.
    func transition(_ body: (inout ClusterState) -> [ClusterAction]) {
        let actions = state.withLock { body(&$0) }
        run(actions)
    }

    /// Registers a worker; the caller sets up its link, then runs the returned actions (its first assignments).
    func registerWorker(connection: UInt64, register: Register, address: String) -> (WorkerID, [ClusterAction]) {
        // The worker is mapped to its connection before any other thread can dispatch to it (lock order:
        // workerConnections, then state; nothing takes them the other way round).
        workerConnections.withLock { map in
            let (id, actions) = state.withLock {
                $0.registerWorker(name: register.name, address: address, slots: Int(register.slots), formats: register.formats, now: .now())
            }
            map[id] = connection
            return (id, actions)
        }
    }

    func workerLost(_ worker: WorkerID) {
        workerConnections.withLock { $0[worker] = nil }
        transition { $0.workerLost(worker, now: .now()) }
    }

    func tick() {
        transition { $0.tick(now: .now()) }
    }

    // MARK: Actions

    func run(_ actions: [ClusterAction]) {
        for action in actions {
            switch action {
            case .assign(let worker, let assign, let source):
                logger.debug("job assigned", metadata: [
                    "job_id": "\(assign.taskID)", "attempt": "\(assign.attempt)", "worker": "\(worker)",
                ])
                guard let connection = workerConnections.withLock({ $0[worker] }), let target = handle(connection) else { continue }
                target.deliver(.assign(assign, source))
            case .cancelTask(let worker, let job, let attempt):
                guard let connection = workerConnections.withLock({ $0[worker] }), let target = handle(connection) else { continue }
                target.deliver(.cancelTask(job: job, attempt: attempt))
            case .notify(let subscribers, let message):
                logger.debug("job ended", metadata: Self.outcomeMetadata(message))
                for subscriber in subscribers {
                    handle(subscriber.connection)?.deliver(.outcome(stream: subscriber.stream, message))
                }
            }
        }
    }

    private static func outcomeMetadata(_ message: Message) -> Logger.Metadata {
        switch message {
        case .jobDone(let done): ["job_id": "\(done.jobID)", "attempt": "\(done.attempts)", "outcome": "succeeded"]
        case .jobFailed(let failed): ["job_id": "\(failed.jobID)", "attempt": "\(failed.attempts)", "outcome": "\(failed.code.name)"]
        default: [:]
        }
    }

    /// Graceful shutdown (PROTOCOL.md §10.6): new jobs are refused and clients are told GOAWAY(shutting_down);
    /// admitted jobs (queued ones too) keep running on the workers and their streams finish, for at most `grace`.
    /// Then every connection, workers' included, gets GOAWAY(shutting_down) and is closed: workers reconnect
    /// with backoff to whichever coordinator comes back.
    public func shutdown(grace: TimeAmount, message: String = "the coordinator is shutting down") async {
        withState { $0.stopAdmitting() }
        let goAway = GoAway(code: .shuttingDown, message: message)
        for handle in connections.withLock({ Array($0.values) }) {
            handle.deliver(.goAway(goAway, close: false, clientsOnly: true))
        }
        let deadline = NIODeadline.now() + grace
        while NIODeadline.now() < deadline, withState({ $0.liveJobCount }) > 0 {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let handles = connections.withLock { Array($0.values) }
        for handle in handles { handle.deliver(.goAway(goAway, close: true, clientsOnly: false)) }
        for handle in handles { try? await handle.closeFuture.get() }
    }

    /// Relays a complete variant to the job's subscribers.
    func deliverVariant(_ header: VariantHeader, chunks: [Chunk], to subscribers: [Subscriber]) {
        for subscriber in subscribers {
            handle(subscriber.connection)?.deliver(.variant(stream: subscriber.stream, header, chunks))
        }
    }

    public var discardedResults: UInt64 { state.withLock { $0.discardedResults } }

    public var isReady: Bool { state.withLock { $0.hasCapacity } }

    public var stats: Stats { state.withLock { $0.stats } }

    private func isAdmin(_ tenant: String) -> Bool { tenantPolicies[tenant]?.isAdmin ?? false }

    /// STATS as a tenant sees it (PROTOCOL.md §6.2): an operator key sees the cluster and every tenant; any other
    /// tenant sees only its own counters, as `total` and as its one tenant entry.
    func stats(for tenant: String) -> Stats {
        var stats = self.stats
        guard !isAdmin(tenant) else { return stats }
        stats.tenants.removeAll { $0.name != tenant }
        stats.total = stats.tenants.first?.counters ?? Stats.Counters()
        return stats
    }

    /// Every worker with its address: the operator's view (/metrics).
    func workerList() -> [WorkerList.Worker] { state.withLock { $0.workerList(now: .now()) } }

    /// WORKERS as a tenant sees it: worker addresses only for an operator key.
    func workerList(for tenant: String) -> [WorkerList.Worker] {
        let showAddresses = isAdmin(tenant)
        return state.withLock { $0.workerList(now: .now(), showAddresses: showAddresses) }
    }
}

/// What the coordinator hands to a connection from another thread.
enum Delivery: Sendable {
    case assign(Assign, [Chunk])
    case cancelTask(job: JobID, attempt: UInt16)
    case variant(stream: UInt32, VariantHeader, [Chunk])
    case outcome(stream: UInt32, Message)
    /// Send GOAWAY (to client links only, or to every link); close the connection at once, or leave its open
    /// streams to finish.
    case goAway(GoAway, close: Bool, clientsOnly: Bool)
}

/// A live connection, reachable from any thread: deliveries hop onto its event loop.
struct ConnectionHandle: Sendable {
    let eventLoop: any EventLoop
    let handler: NIOLoopBound<CoordinatorConnectionHandler>
    let closeFuture: EventLoopFuture<Void>

    func deliver(_ delivery: Delivery) {
        if eventLoop.inEventLoop {
            handler.value.deliver(delivery)
        } else {
            let handler = self.handler
            eventLoop.execute { handler.value.deliver(delivery) }
        }
    }
}
