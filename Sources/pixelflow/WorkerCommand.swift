import ArgumentParser
import Foundation
import Logging
import PixelFlowBatch
import PixelFlowCoordinator
import PixelFlowImaging
import PixelFlowWorker
import ServiceLifecycle

/// `pixelflow worker`: connects out to the coordinator and runs jobs on the imaging engine.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker: connect to the coordinator, run jobs with libvips, stream variants back.",
        discussion: """
            The join secret comes from the config file's join.secret or PIXELFLOW_JOIN_SECRET (key id: join.key_id, \
            default "worker"). Reconnects with backoff when the coordinator is unreachable. On SIGTERM it takes no \
            new work, finishes what it holds (up to --drain-timeout), hands back the rest, and exits.
            """)

    @Option(help: "The coordinator, HOST:PORT.")
    var coordinator: String

    @Option(help: "Tasks run at once (default: the number of cores).")
    var slots: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Name shown in `pfctl workers` (default: the host name and process id).")
    var name: String?

    @OptionGroup var tls: TLSOptions

    @Option(help: "Milliseconds each GET of a source or PUT of a variant in the object store may take.")
    var objectTimeoutMs: Int64 = 60_000

    @Option(help: "Configuration file (JSON), for join.key_id and join.secret.")
    var config: String?

    @Option(help: "Seconds SIGTERM waits for running tasks before handing them back.")
    var drainTimeout: Int = 30

    @Flag(
        help:
            "Benchmarking aid: answer every task with a tiny fixed variant without decoding, to measure the coordinator alone."
    )
    var nullEngine = false

    @Option(help: "With --null-engine: bytes in each variant (pseudo-random, so they do not compress). Default 16.")
    var nullVariantBytes: Int = 16

    @Option(
        help: ArgumentHelp(
            "With --null-engine: simulated work per task, in milliseconds (see --work-kind). Default 0.",
            valueName: "MS"))
    var workMs: Int = 0

    @Option(help: "With --work-ms: sleep (wait without using the CPU) or cpu (burn the CPU on one thread).")
    var workKind: WorkKind = .sleep

    enum WorkKind: String, ExpressibleByArgument, CaseIterable {
        case sleep, cpu
    }

    @Option(help: "First reconnect delay in milliseconds; doubles after each failed attempt.")
    var reconnectDelayMs: Int = 100

    @Option(help: "Longest reconnect delay in milliseconds.")
    var maxReconnectDelayMs: Int = 5_000

    @Option(help: "Time allowed to open the TCP connection to the coordinator, in milliseconds.")
    var connectTimeoutMs: Int = 5_000

    @Option(help: "Time allowed from the TCP connection to a verified AUTH_OK, in milliseconds.")
    var handshakeTimeoutMs: Int = 10_000

    func validate() throws {
        guard slots >= 1 && slots <= 1024 else { throw ValidationError("--slots must be 1...1024") }
        guard (100...3_600_000).contains(objectTimeoutMs) else {
            throw ValidationError("--object-timeout-ms must be 100...3600000")
        }
        guard (1...(64 << 20)).contains(nullVariantBytes) else {
            throw ValidationError("--null-variant-bytes must be 1...67108864")
        }
        guard (0...3_600_000).contains(workMs) else { throw ValidationError("--work-ms must be 0...3600000") }
        guard workMs == 0 || nullEngine else { throw ValidationError("--work-ms needs --null-engine") }
        guard reconnectDelayMs >= 1, maxReconnectDelayMs >= reconnectDelayMs, maxReconnectDelayMs <= 600_000 else {
            throw ValidationError("reconnect delays: 1 <= --reconnect-delay-ms <= --max-reconnect-delay-ms <= 600000")
        }
        guard (1...600_000).contains(connectTimeoutMs), (1...600_000).contains(handshakeTimeoutMs) else {
            throw ValidationError("--connect-timeout-ms and --handshake-timeout-ms must be 1...600000")
        }
    }

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        MemoryTuning.mapLargeAllocations()
        let join = try loadJoin(path: config, environment: ProcessInfo.processInfo.environment)
        guard let secret = join.secret else {
            throw ValidationError("no join secret: set join.secret in --config or PIXELFLOW_JOIN_SECRET")
        }
        let (host, port) = try CoordinatorConfig.hostAndPort(coordinator)
        var workerConfig = WorkerConfig(
            coordinatorHost: host, coordinatorPort: port, keyID: join.keyID, secret: secret,
            name: name ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())", slots: slots)
        workerConfig.nullEngine = nullEngine
        workerConfig.nullVariantBytes = nullVariantBytes
        if workMs > 0 {
            let duration = Duration.milliseconds(workMs)
            workerConfig.nullWork = workKind == .sleep ? .sleep(duration) : .burnCPU(duration)
        }
        workerConfig.reconnectDelay = .milliseconds(Int64(reconnectDelayMs))
        workerConfig.maxReconnectDelay = .milliseconds(Int64(maxReconnectDelayMs))
        workerConfig.connectTimeout = .milliseconds(Int64(connectTimeoutMs))
        workerConfig.handshakeTimeout = .milliseconds(Int64(handshakeTimeoutMs))
        workerConfig.imagingLimits = try loadImagingLimits(
            path: config, environment: ProcessInfo.processInfo.environment)
        workerConfig.drainTimeout = .seconds(Int64(drainTimeout))
        workerConfig.objectTimeout = .milliseconds(objectTimeoutMs)
        workerConfig.tls = try tls.clientTLS()
        let logger = Logger(label: "pixelflow.worker")
        let service = WorkerService(node: WorkerNode(config: workerConfig), logger: logger)
        print(
            "pixelflow worker \(workerConfig.name): \(slots) slots, coordinator \(coordinator)\(nullEngine ? ", null engine" : "")\(workMs > 0 ? " (\(workKind.rawValue) \(workMs) ms per task)" : "")"
        )
        fflush(nil)
        // Ends when the worker has drained after SIGTERM or SIGINT.
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
