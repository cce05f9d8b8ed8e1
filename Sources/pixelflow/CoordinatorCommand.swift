import ArgumentParser
import Foundation
import Logging
import NIOCore
import PixelFlowCoordinator
import PixelFlowPipeline
import PixelFlowProtocol
import ServiceLifecycle

/// `pixelflow coordinator`: accepts clients and workers, serves /healthz, /readyz and /metrics.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the coordinator: admission, scheduling, leases; /healthz, /readyz and /metrics over HTTP.",
        discussion: """
            Configuration comes from the JSON file given with --config (see the README for every key), then \
            PIXELFLOW_<KEY> environment variables (limits.max_source_bytes → PIXELFLOW_LIMITS_MAX_SOURCE_BYTES), \
            then these flags. Stops on SIGTERM or SIGINT.
            """)

    @Option(help: "Configuration file (JSON).")
    var config: String?

    @Option(help: "Protocol address, HOST:PORT (default 127.0.0.1:7400).")
    var listen: String?

    @Option(help: "HTTP status address, HOST:PORT (default 127.0.0.1:7401).")
    var http: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let settings = try loadConfig(path: config, environment: ProcessInfo.processInfo.environment)
        let logger = Logger(label: "pixelflow.coordinator")
        let service = try await CoordinatorService.start(settings, listen: listen, http: http, logger: logger)
        print("pixelflow coordinator listening on \(service.protocolAddress) (HTTP \(service.httpAddress))")
        fflush(nil)
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

func loadConfig(path: String?, environment: [String: String]) throws -> CoordinatorConfig {
    let path = path ?? environment["PIXELFLOW_CONFIG"]
    let data = try path.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
    do {
        return try CoordinatorConfig(json: data, environment: environment)
    } catch let invalid as CoordinatorConfig.Invalid {
        throw ValidationError("config: \(invalid.description)")
    }
}
