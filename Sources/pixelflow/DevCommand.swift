import ArgumentParser
import Foundation
import Logging
import NIOCore
import PixelFlowCoordinator
import PixelFlowHTTP
import PixelFlowImaging
import PixelFlowProtocol
import PixelFlowWorker
import ServiceLifecycle

/// `pixelflow dev`: a coordinator and N workers on loopback, in one process, with a generated dev tenant.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract:
            "Run a local cluster: a coordinator and N workers on loopback, with a dev tenant; prints what pfctl needs.",
        discussion: """
            The dev tenant's key id is "dev"; its secret is PIXELFLOW_SECRET when set (so scripts can choose it), \
            otherwise random. The HTTP API listens on the protocol port + 2, for the dev tenant's bearer token \
            PIXELFLOW_API_TOKEN (random when unset). Stops on SIGTERM or SIGINT: admitted jobs finish, then the \
            workers drain.
            """)

    @Option(help: "Protocol port on 127.0.0.1 (the HTTP status port is this + 1, the HTTP API this + 2).")
    var port: Int = 7400

    @Option(help: "Workers to start.")
    var workers: Int = 1

    @Option(help: "Slots per worker (default: the number of cores).")
    var slots: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Configuration file (JSON) for limits and rates; its tenants are kept and the dev tenant added.")
    var config: String?

    @Flag(help: "Benchmarking aid: workers answer with a tiny fixed variant without decoding.")
    var nullEngine = false

    @Option(help: "Data directory of the job store (default: a new temporary directory, removed on exit).")
    var data: String?

    func validate() throws {
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be 1...64") }
        guard (1...1024).contains(slots) else { throw ValidationError("--slots must be 1...1024") }
        guard (0...65533).contains(port) else { throw ValidationError("--port must be 0...65533") }
    }

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        MemoryTuning.mapLargeAllocations()
        let environment = ProcessInfo.processInfo.environment
        var config = try loadConfig(path: config, environment: environment.filter { $0.key != "PIXELFLOW_SECRET" })
        let secret = environment["PIXELFLOW_SECRET"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.randomSecret()
        let apiToken = environment["PIXELFLOW_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.randomSecret()
        let joinSecret = Array(Self.randomSecret().utf8)
        let imagingLimits = try loadImagingLimits(path: self.config, environment: environment)
        config.joinSecret = joinSecret
        config.tenants.removeAll { $0.keyID == "dev" }
        config.tenants.append(
            TenantPolicy(
                keyID: "dev", secret: Array(secret.utf8), rate: 10_000, burst: 20_000, maxQueued: 100_000,
                isAdmin: true,
                apiTokenSHA256: SHA256Digest.of(ByteBuffer(string: apiToken))))
        let temporaryData = data == nil && config.storePath == nil
        config.storePath =
            data ?? config.storePath ?? NSTemporaryDirectory()
            + "pixelflow-dev-\(ProcessInfo.processInfo.processIdentifier)"
        defer { if temporaryData, let path = config.storePath { try? FileManager.default.removeItem(atPath: path) } }
        let logger = Logger(label: "pixelflow.dev")
        let coordinator = try await startCoordinator(
            config, listen: "127.0.0.1:\(port)", http: "127.0.0.1:\(port == 0 ? 0 : port + 1)", logger: logger)
        let address = coordinator.protocolAddress
        print(
            """
            pixelflow dev: coordinator on \(address), HTTP status on \(coordinator.httpAddress), \(workers) worker(s) × \(slots) slot(s)\(nullEngine ? ", null engine" : ""), jobs stored in \(config.storePath ?? "memory")
            export PIXELFLOW_COORDINATOR=\(address)
            export PIXELFLOW_KEY_ID=dev
            export PIXELFLOW_SECRET=\(secret)
            """)
        fflush(nil)

        let (host, boundPort) = try CoordinatorConfig.hostAndPort(address)
        var services: [any Service] = []
        for index in 1...workers {
            var workerConfig = WorkerConfig(
                coordinatorHost: host, coordinatorPort: boundPort, keyID: config.joinKeyID, secret: joinSecret,
                name: "dev-worker-\(index)", slots: slots)
            workerConfig.nullEngine = nullEngine
            workerConfig.imagingLimits = imagingLimits
            workerConfig.drainTimeout = .seconds(10)
            services.append(WorkerService(node: WorkerNode(config: workerConfig), logger: logger))
        }
        // Shut down last to first: the HTTP API stops taking requests, the coordinator stops admitting and lets
        // admitted jobs finish on the still running workers, then the workers drain.
        services += coordinator.services
        services.append(
            try APIService(
                coordinator: coordinator.coordinator, address: "127.0.0.1:\(port == 0 ? 0 : port + 2)",
                maxJSONBytes: config.apiMaxJSONBytes, idleTimeout: config.apiIdleTimeout, logger: logger
            ) { address in
                print("pixelflow dev: HTTP API on http://\(address)\nexport PIXELFLOW_API=http://\(address)")
                print("export PIXELFLOW_API_TOKEN=\(apiToken)")
                fflush(nil)
            })
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
