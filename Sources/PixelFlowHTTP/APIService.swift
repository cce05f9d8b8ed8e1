import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import PixelFlowCoordinator
import PixelFlowTLS
import ServiceLifecycle

/// The HTTP API (`api.listen`) as a lifecycle `Service`: the `/v1` routes behind bearer-token auth, and
/// `/healthz` and `/readyz` as on the status port. Graceful shutdown stops accepting and lets requests in flight
/// finish; placed after the coordinator in a `ServiceGroup`, it stops first.
public struct APIService: Service {
    private let application: Application<RouterResponder<APIRequestContext>>

    /// `onListening` gets host:port once the port is bound (the real port when 0 was asked for).
    public init(
        coordinator: Coordinator, address: String, maxJSONBytes: Int = 1 << 20,
        idleTimeout: TimeAmount = .seconds(30), tls: ServerTLS? = nil,
        logger: Logger = Logger(label: "pixelflow.api"), onListening: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        let (host, port) = try CoordinatorConfig.hostAndPort(address)
        let router = Self.router(coordinator: coordinator, maxJSONBytes: maxJSONBytes)
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: idleTimeout))
        application = Application(
            router: router,
            server: try tls.map { try .tls(http1, tlsConfiguration: $0.httpsConfiguration) } ?? http1,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "pixelflow"),
            onServerRunning: { channel in onListening(channel.localAddress.map(Self.display) ?? address) },
            logger: logger)
    }

    /// Every route the API serves (proto/openapi.yaml documents each; a test holds the two together).
    static func router(coordinator: Coordinator, maxJSONBytes: Int) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        let methods = RouteMethods()
        router.add(middleware: APIMetricsMiddleware(registry: coordinator.metricsRegistry))
        router.add(middleware: APIErrorMiddleware(routes: methods))
        router.get("healthz") { _, _ in Self.text("ok\n") }
        router.get("readyz") { _, _ -> Response in
            guard let reason = coordinator.unreadyReason else { return Self.text("ready\n") }
            throw APIError(.serviceUnavailable, "unavailable", reason)
        }
        let versioned = router.group("v1")
            .add(middleware: BearerAuthMiddleware(tenantForToken: { coordinator.tenant(forAPIToken: $0) }))
        JobRoutes(coordinator: coordinator, maxJSONBytes: maxJSONBytes).add(to: versioned)
        methods.learn(router.routes)
        return router
    }

    private static func text(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    public func run() async throws {
        try await application.runService()
    }

    private static func display(_ address: SocketAddress) -> String {
        switch address {
        case .v6: "[\(address.ipAddress ?? "::")]:\(address.port ?? 0)"
        default: "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        }
    }
}
