import ArgumentParser
import Foundation
import Logging
import NIOCore
import PixelFlowCoordinator
import PixelFlowHTTP
import PixelFlowPipeline
import PixelFlowProtocol
import PixelFlowStore
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

    @Option(help: "HTTP API address, HOST:PORT (api.listen; default: no HTTP API).")
    var api: String?

    @Option(help: "Data directory of the job store (store.path; default ./pixelflow-data).")
    var data: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        var settings = try loadConfig(path: config, environment: ProcessInfo.processInfo.environment)
        settings.storePath = data ?? settings.storePath ?? "./pixelflow-data"
        let logger = Logger(label: "pixelflow.coordinator")
        let service = try await startCoordinator(settings, listen: listen, http: http, logger: logger)
        print(
            "pixelflow coordinator listening on \(service.protocolAddress) (HTTP \(service.httpAddress)), "
                + "jobs stored in \(settings.storePath ?? "memory")")
        fflush(nil)
        // A group stops last to first: the HTTP API stops taking requests, the coordinator drains, then the status
        // port and the webhook sender (service.services) go.
        var services: [any Service] = service.services
        if let address = api ?? settings.api {
            // After the coordinator: on shutdown it stops taking requests first.
            services.append(
                try APIService(
                    coordinator: service.coordinator, address: address, maxJSONBytes: settings.apiMaxJSONBytes,
                    idleTimeout: settings.apiIdleTimeout, tls: service.tls, logger: logger
                ) { bound in
                    print(
                        "pixelflow coordinator: HTTP API listening on \(service.tls == nil ? "http" : "https")://\(bound)"
                    )
                    fflush(nil)
                })
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

/// Starts the coordinator service; a job store it must not open (a newer schema, or one in use) ends the
/// process with status 78 (EX_CONFIG) and the reason, rather than a stack of errors.
func startCoordinator(
    _ config: CoordinatorConfig, listen: String?, http: String?, logger: Logger
) async throws -> CoordinatorService {
    // Past a file-size limit (ulimit -f) the kernel would kill the process with SIGXFSZ; ignored, a write that
    // crosses it fails with EFBIG instead, which the store reports as storage_error.
    signal(SIGXFSZ, SIG_IGN)
    FileDescriptorLimit.raise(toHold: config.settings.maxConnections, logger: logger)
    do {
        return try await CoordinatorService.start(config, listen: listen, http: http, logger: logger)
    } catch let error as StoreError {
        FileHandle.standardError.write(Data("pixelflow: \(error.message)\n".utf8))
        throw ExitCode(78)
    }
}

/// A worker's join key id and secret from the same file (and environment), without reading the rest.
func loadJoin(path: String?, environment: [String: String]) throws -> (keyID: String, secret: [UInt8]?) {
    try readConfig(path: path, environment: environment) {
        try CoordinatorConfig.join(json: $0, environment: environment)
    }
}

func loadConfig(path: String?, environment: [String: String]) throws -> CoordinatorConfig {
    try readConfig(path: path, environment: environment) { try CoordinatorConfig(json: $0, environment: environment) }
}

/// The config file (`path`, else `PIXELFLOW_CONFIG`; none: defaults) through `parse`; a bad value is a usage error.
private func readConfig<Parsed>(
    path: String?, environment: [String: String], _ parse: (Data?) throws -> Parsed
) throws -> Parsed {
    let path = path ?? environment["PIXELFLOW_CONFIG"]
    let data = try path.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
    do {
        return try parse(data)
    } catch let invalid as CoordinatorConfig.Invalid {
        throw ValidationError("config: \(invalid.description)")
    }
}
