import NIOCore
import NIOPosix
import PixelFlowProtocol

/// The coordinator's listening socket: one `CoordinatorConnectionHandler` per accepted connection, and the
/// clock that expires leases and releases retries.
public final class CoordinatorServer: Sendable {
    public let coordinator: Coordinator
    private let group: any EventLoopGroup
    public let tickInterval: TimeAmount

    public init(coordinator: Coordinator, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, tickInterval: TimeAmount = .milliseconds(100)) {
        self.coordinator = coordinator
        self.group = group
        self.tickInterval = tickInterval
    }

    /// Binds the protocol port. The returned channel's `localAddress` tells the port when 0 was asked for.
    public func bind(host: String, port: Int) async throws -> any Channel {
        let coordinator = self.coordinator
        let limits = coordinator.settings.limits
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteCountingHandler(metrics: coordinator.metrics),
                        ByteToMessageHandler(FrameDecoder(limits: limits, from: [.client, .worker])),
                        BatchingFrameEncoder(),
                        CoordinatorConnectionHandler(coordinator: coordinator),
                    ])
                }
            }
            .bind(host: host, port: port).get()
        let tick = channel.eventLoop.scheduleRepeatedTask(initialDelay: tickInterval, delay: tickInterval) { _ in
            coordinator.tick()
        }
        channel.closeFuture.whenComplete { _ in tick.cancel() }
        return channel
    }
}

/// Counts the bytes that cross the socket, for /metrics.
final class ByteCountingHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let metrics: CoordinatorMetrics

    init(metrics: CoordinatorMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        metrics.bytesIn.add(UInt64(unwrapInboundIn(data).readableBytes), ordering: .relaxed)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        metrics.bytesOut.add(UInt64(unwrapOutboundIn(data).readableBytes), ordering: .relaxed)
        context.write(data, promise: promise)
    }
}
