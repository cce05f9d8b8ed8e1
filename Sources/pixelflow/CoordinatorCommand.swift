import ArgumentParser
import Foundation
import NIOCore
import PixelFlowCoordinator
import PixelFlowPipeline
import PixelFlowProtocol

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
        let running = try await RunningCoordinator.start(settings, listen: listen, http: http)
        print("pixelflow coordinator listening on \(running.protocolAddress) (HTTP \(running.httpAddress))")
        fflush(nil)
        await SignalWaiter.waitForTermination()
        try await running.stop()
    }
}

/// A coordinator's servers, started from a config.
struct RunningCoordinator {
    let server: CoordinatorServer
    let protocolChannel: any Channel
    let httpChannel: any Channel
    let coordinator: Coordinator

    var protocolAddress: String { protocolChannel.localAddress?.hostAndPort ?? "?" }
    var httpAddress: String { httpChannel.localAddress?.hostAndPort ?? "?" }

    static func start(_ config: CoordinatorConfig, listen: String?, http: String?) async throws -> RunningCoordinator {
        var workerKeys: [String: [UInt8]] = [:]
        if let secret = config.joinSecret { workerKeys[config.joinKeyID] = secret }
        let coordinator = Coordinator(
            settings: config.settings, tenants: config.tenants, workerKeys: workerKeys, validatePipeline: validatePipeline)
        let (host, port) = try CoordinatorConfig.hostAndPort(listen ?? config.listen)
        let (httpHost, httpPort) = try CoordinatorConfig.hostAndPort(http ?? config.http)
        let server = CoordinatorServer(coordinator: coordinator)
        let protocolChannel = try await server.bind(host: host, port: port)
        let httpChannel = try await StatusHTTPServer(coordinator: coordinator).bind(host: httpHost, port: httpPort)
        return RunningCoordinator(server: server, protocolChannel: protocolChannel, httpChannel: httpChannel, coordinator: coordinator)
    }

    /// Stops accepting, lets admitted jobs finish within the grace period, then closes every connection.
    func stop() async throws {
        try? await protocolChannel.close()
        await coordinator.shutdown(grace: coordinator.settings.shutdownGrace)
        server.stopTicking()
        try? await httpChannel.close()
    }
}

/// The imaging engine's validation rules, applied before a job is queued (no libvips involved).
@Sendable func validatePipeline(_ json: ByteBuffer) -> Result<Int, ProtocolError> {
    do throws(PipelineError) {
        return .success(try PipelineCache.shared.decode(wire: Data(json.readableBytesView)).variants.count)
    } catch {
        return .failure(ProtocolError(.invalidPipeline, error.description))
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
