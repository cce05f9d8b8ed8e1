import Logging
import NIOCore
import PixelFlowCoordinator
import PixelFlowWorker
import ServiceLifecycle

/// A whole cluster inside the test process: a coordinator on port 0 and workers as lifecycle services in one
/// `ServiceGroup`, as hummingbird tests itself. Faster to start than processes and easy to inspect; the
/// process-level suites stay for what only a real process shows (kill -9, RSS, signals).
struct InProcessCluster {
    static let tenantSecret = "in-process-tenant-secret-0123"
    let coordinator: CoordinatorService
    let port: Int
    private let group: ServiceGroup

    /// Runs `body` with a started cluster, then shuts it down gracefully and waits for every service to end.
    static func with<Result: Sendable>(
        workers: Int = 1, slots: Int = 2, nullEngine: Bool = false,
        configure: (inout CoordinatorConfig) -> Void = { _ in },
        _ body: (InProcessCluster) async throws -> Result
    ) async throws -> Result {
        var config = CoordinatorConfig()
        config.joinSecret = Array("in-process-join-secret-0123".utf8)
        config.tenants = [TenantPolicy(keyID: "acme", secret: Array(tenantSecret.utf8), rate: 10_000, burst: 10_000)]
        configure(&config)
        var logger = Logger(label: "pixelflow.tests")
        logger.logLevel = .critical
        let coordinator = try await CoordinatorService.start(
            config, listen: "127.0.0.1:0", http: "127.0.0.1:0", logger: logger)
        let port = Int(coordinator.protocolAddress.split(separator: ":").last.flatMap { Int($0) } ?? 0)
        var services: [any Service] = []
        for index in 0..<workers {
            var worker = WorkerConfig(
                coordinatorHost: "127.0.0.1", coordinatorPort: port, keyID: config.joinKeyID,
                secret: config.joinSecret ?? [],
                name: "in-process-\(index)", slots: slots)
            worker.nullEngine = nullEngine
            worker.drainTimeout = .seconds(5)
            services.append(WorkerService(node: WorkerNode(config: worker), logger: logger))
        }
        services += coordinator.services  // shut down first: stop admitting, finish, close; then the workers drain
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [], logger: logger)
        let cluster = InProcessCluster(coordinator: coordinator, port: port, group: group)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await cluster.waitForWorkers(workers)
                let result = try await body(cluster)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// Starts the graceful shutdown without waiting for it.
    func shutDown() async {
        await group.triggerGracefulShutdown()
    }

    private func waitForWorkers(_ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while Int(coordinator.coordinator.stats.workers) < count {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
