import Logging
import NIOCore
import NIOPosix
import PixelFlowStore
import PixelFlowTLS
import ServiceLifecycle

/// A running coordinator — the protocol port and the scheduler's clock — as a lifecycle `Service`, run with its
/// companions (`services`: the status port and the webhook sender, which stop after it). On the group's graceful
/// shutdown (SIGTERM, SIGINT) it stops accepting, refuses new jobs, lets the admitted ones finish within
/// `shutdown_grace_ms`, closes every connection, then stops the clock.
public struct CoordinatorService: Service {
    public let coordinator: Coordinator
    private let server: CoordinatorServer
    private let protocolChannel: any Channel
    private let httpChannel: any Channel
    /// TLS on the protocol port (`tls.*`), for the HTTP API to serve HTTPS with the same certificate.
    public let tls: ServerTLS?

    /// host:port the protocol port is bound to (the real port when 0 was asked for).
    public var protocolAddress: String { protocolChannel.localAddress?.hostAndPort ?? "?" }
    public var httpAddress: String { httpChannel.localAddress?.hostAndPort ?? "?" }

    /// Binds both ports; the service runs once added to a `ServiceGroup` (or `run()` is called). The protocol port
    /// runs on `group` when one is given, else on `event_loops` threads of its own; the status port on `group`, else
    /// on NIO's shared loops.
    public static func start(
        _ config: CoordinatorConfig, listen: String? = nil, http: String? = nil,
        group: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "pixelflow.coordinator")
    ) async throws -> CoordinatorService {
        var workerKeys: [String: [UInt8]] = [:]
        if let secret = config.joinSecret { workerKeys[config.joinKeyID] = secret }
        let opened = try openStore(config, logger: logger)
        let coordinator = Coordinator(
            settings: config.settings, tenants: config.tenants, workerKeys: workerKeys, store: opened.store,
            recovered: opened.recovered, storeProblem: opened.problem, webhooks: config.webhooks,
            objects: config.objects, sources: config.sources, logger: logger)
        let (host, port) = try CoordinatorConfig.hostAndPort(listen ?? config.listen)
        let (httpHost, httpPort) = try CoordinatorConfig.hostAndPort(http ?? config.http)
        let tls: ServerTLS?
        do {
            tls = try config.tls.map {
                try ServerTLS(certificateFile: $0.certificate, keyFile: $0.key, clientCAFile: $0.clientCA)
            }
        } catch {
            throw CoordinatorConfig.Invalid("tls: \(error)")
        }
        if tls == nil && !Self.isLoopback(host) {
            logger.warning(
                "the protocol port listens on \(host) without TLS: secrets stay safe (HMAC handshake), but images and job data cross the network in clear; set tls.cert and tls.key"
            )
        }
        let server = CoordinatorServer(
            coordinator: coordinator, group: group ?? ProtocolEventLoops.group(threads: config.settings.eventLoops))
        let protocolChannel = try await server.bind(host: host, port: port, tls: tls)
        let httpChannel: any Channel
        do {
            httpChannel = try await StatusHTTPServer(
                coordinator: coordinator, group: group ?? MultiThreadedEventLoopGroup.singleton
            ).bind(
                host: httpHost, port: httpPort)
        } catch {
            try? await protocolChannel.close()
            server.stopTicking()
            throw error
        }
        return CoordinatorService(
            coordinator: coordinator, server: server, protocolChannel: protocolChannel, httpChannel: httpChannel,
            tls: tls)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public func run() async throws {
        // The writer is not cancelled with the others: `stop()` ends it once it has committed what is queued.
        async let writer: Void = coordinator.runStoreWriter()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await coordinator.runStoreMaintenance() }
            group.addTask { await coordinator.runUsageFlush() }
            // Returns on graceful shutdown; throws CancellationError when the group is cancelled instead.
            try? await gracefulShutdown()
            await stop()
            group.cancelAll()
        }
        await writer
    }

    /// Opens the job store named by `store.path`. A store that is damaged or unwritable does not stop the
    /// coordinator: it serves stream jobs and refuses async ones with `storage_error` (and says why on /readyz).
    /// A store of a newer schema, or one another coordinator holds, does stop it: that is `StoreError`.
    static func openStore(
        _ config: CoordinatorConfig, logger: Logger
    ) throws -> (store: SQLiteJobStore?, recovered: RecoveredState?, problem: String?) {
        guard let path = config.storePath else { return (nil, nil, nil) }
        do throws(StoreError) {
            let (store, recovered) = try SQLiteJobStore.open(directory: path, options: config.storeOptions)
            logger.debug(
                "job store open",
                metadata: [
                    "path": "\(path)", "live_jobs": "\(recovered.liveJobs.count)",
                    "next_job_id": "\(recovered.nextJobID)",
                ])
            return (store, recovered, nil)
        } catch {
            switch error.kind {
            case .schemaTooNew, .locked:
                throw error
            case .corrupt, .io:
                logger.critical(
                    """
                    the job store cannot be used; async jobs are refused until it is repaired and the coordinator \
                    restarted: \(error.message)
                    """)
                return (nil, nil, error.message)
            }
        }
    }

    /// Stops accepting, lets admitted jobs finish within the grace period, then closes every connection.
    public func stop() async {
        try? await protocolChannel.close()
        await coordinator.shutdown(grace: coordinator.settings.shutdownGrace)
        server.stopTicking()
        await coordinator.flushUsage()
        coordinator.finishStoreWriter()
    }

    /// The coordinator with the services that must outlast its shutdown — the status port and the webhook sender —
    /// in `ServiceGroup` order (a group shuts down last to first): put these where the coordinator would go.
    public var services: [any Service] {
        var services: [any Service] = []
        if let webhooks = coordinator.webhooks { services.append(WebhookService(dispatcher: webhooks)) }
        services.append(StatusService(channel: httpChannel))
        services.append(self)
        return services
    }
}
