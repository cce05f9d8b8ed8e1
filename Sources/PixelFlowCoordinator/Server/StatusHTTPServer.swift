import NIOCore
import NIOHTTP1
import NIOPosix
import PixelFlowProtocol

/// `/healthz` (the process is up), `/readyz` (some worker can take work) and `/metrics` (Prometheus text).
public struct StatusHTTPServer: Sendable {
    let coordinator: Coordinator
    let group: any EventLoopGroup

    public init(coordinator: Coordinator, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.coordinator = coordinator
        self.group = group
    }

    public func bind(host: String, port: Int) async throws -> any Channel {
        let coordinator = self.coordinator
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(StatusHTTPHandler(coordinator: coordinator))
                }
            }
            .bind(host: host, port: port).get()
    }
}

final class StatusHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let coordinator: Coordinator
    private var path = "/"

    init(coordinator: Coordinator) { self.coordinator = coordinator }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "/")
        case .body:
            break
        case .end:
            let (status, body, type) = response()
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    private func response() -> (HTTPResponseStatus, String, String) {
        switch path {
        case "/healthz":
            return (.ok, "ok\n", "text/plain")
        case "/readyz":
            guard let reason = coordinator.unreadyReason else { return (.ok, "ready\n", "text/plain") }
            return (.serviceUnavailable, reason + "\n", "text/plain")
        case "/metrics":
            coordinator.metrics.state.publish(coordinator)
            return (.ok, coordinator.metrics.registry.emitToString(), "text/plain; version=0.0.4")
        default:
            return (.notFound, "not found\n", "text/plain")
        }
    }
}
