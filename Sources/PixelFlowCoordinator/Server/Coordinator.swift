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

    /// Where connection-level events go (refused handshakes, protocol errors, workers joining and leaving).
    let log: @Sendable (String) -> Void

    public init(
        settings: CoordinatorSettings, tenants: [TenantPolicy], workerKeys: [String: [UInt8]],
        validatePipeline: @escaping PipelineValidator, log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.settings = settings
        self.log = log
        self.validatePipeline = validatePipeline
        self.tenantPolicies = Dictionary(tenants.map { ($0.keyID, $0) }, uniquingKeysWith: { first, _ in first })
        var table: [StaticSecrets.Key: [UInt8]] = [:]
        for tenant in tenants { table[.init(keyID: tenant.keyID, role: .client)] = tenant.secret }
        for (keyID, secret) in workerKeys { table[.init(keyID: keyID, role: .worker)] = secret }
        self.secrets = StaticSecrets(table)
        self.state = Mutex(ClusterState(settings: settings, tenants: tenants, now: .now()))
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
                guard let connection = workerConnections.withLock({ $0[worker] }), let target = handle(connection) else { continue }
                target.deliver(.assign(assign, source))
            case .cancelTask(let worker, let job, let attempt):
                guard let connection = workerConnections.withLock({ $0[worker] }), let target = handle(connection) else { continue }
                target.deliver(.cancelTask(job: job, attempt: attempt))
            case .notify(let subscribers, let message):
                for subscriber in subscribers {
                    handle(subscriber.connection)?.deliver(.outcome(stream: subscriber.stream, message))
                }
            }
        }
    }

    /// Says goodbye to every connection (GOAWAY shutting_down) and closes it: workers reconnect with backoff,
    /// clients see their requests fail with a retryable code instead of a silent reset.
    public func goAwayAll(message: String) {
        for handle in connections.withLock({ Array($0.values) }) {
            handle.deliver(.goAway(GoAway(code: .shuttingDown, message: message)))
        }
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

    /// STATS as a tenant sees it: cluster totals, and its own usage (every tenant's for an operator key).
    func stats(for tenant: String) -> Stats {
        var stats = self.stats
        if !(tenantPolicies[tenant]?.isAdmin ?? false) { stats.tenants.removeAll { $0.name != tenant } }
        return stats
    }

    func workerList() -> [WorkerList.Worker] { state.withLock { $0.workerList(now: .now()) } }
}

/// What the coordinator hands to a connection from another thread.
enum Delivery: Sendable {
    case assign(Assign, [Chunk])
    case cancelTask(job: JobID, attempt: UInt16)
    case variant(stream: UInt32, VariantHeader, [Chunk])
    case outcome(stream: UInt32, Message)
    case goAway(GoAway)
}

/// A live connection, reachable from any thread: deliveries hop onto its event loop.
struct ConnectionHandle: Sendable {
    let eventLoop: any EventLoop
    let handler: NIOLoopBound<CoordinatorConnectionHandler>

    func deliver(_ delivery: Delivery) {
        if eventLoop.inEventLoop {
            handler.value.deliver(delivery)
        } else {
            let handler = self.handler
            eventLoop.execute { handler.value.deliver(delivery) }
        }
    }
}
