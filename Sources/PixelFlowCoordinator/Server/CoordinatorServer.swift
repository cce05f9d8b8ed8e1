import NIOCore
import NIOPosix
import PixelFlowLocking
import PixelFlowProtocol
import PixelFlowTLS

/// The coordinator's listening socket: one `CoordinatorConnectionHandler` per accepted connection, and the
/// clock that expires leases and releases retries.
public final class CoordinatorServer: Sendable {
    public let coordinator: Coordinator
    private let group: any EventLoopGroup
    public let tickInterval: TimeAmount

    private let ticks = Locked<[RepeatedTask]>([])

    public init(
        coordinator: Coordinator, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        tickInterval: TimeAmount = .milliseconds(100)
    ) {
        self.coordinator = coordinator
        self.group = group
        self.tickInterval = tickInterval
    }

    /// Binds the protocol port, every connection over TLS when `tls` is given. The returned channel's
    /// `localAddress` tells the port when 0 was asked for.
    public func bind(host: String, port: Int, tls: ServerTLS? = nil) async throws -> any Channel {
        let coordinator = self.coordinator
        let gate = coordinator.connectionGate
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Writability flips at these marks: above the high one the peer is not keeping up and the coordinator
            // stops reading its requests (OutboundPressure).
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 1 << 20, high: 4 << 20))
            .childChannelInitializer { channel in
                // Over the limit: closed before the coordinator sends its preface, as PROTOCOL.md §2.4 allows.
                guard gate.enter() else {
                    coordinator.metrics.connectionsRefused.increment()
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in gate.leave() }
                return channel.eventLoop.makeCompletedFuture {
                    try Self.addConnectionHandlers(to: channel, coordinator: coordinator, tls: tls)
                }
            }
            .bind(host: host, port: port).get()
        // The clock outlives the listening socket: leases and retries keep running through a graceful shutdown.
        let tick = channel.eventLoop.scheduleRepeatedTask(initialDelay: tickInterval, delay: tickInterval) { _ in
            coordinator.tick()
        }
        ticks.withLock { $0.append(tick) }
        return channel
    }
}

extension CoordinatorServer {
    /// What each accepted connection runs, from the socket's bytes to the coordinator: TLS when given, the byte
    /// counter and a `CoordinatorConnectionHandler` (which decodes and encodes frames itself). Call on the channel's
    /// event loop; `bind` does it for every connection, and benchmarks do it on in-memory channels.
    public static func addConnectionHandlers(
        to channel: any Channel, coordinator: Coordinator, tls: ServerTLS? = nil
    ) throws {
        try tls?.addHandler(to: channel)
        let byteCounter = ByteCountingHandler(metrics: coordinator.metrics)
        try channel.pipeline.syncOperations.addHandlers([
            byteCounter,
            CoordinatorConnectionHandler(
                coordinator: coordinator, byteCounter: byteCounter, frameClock: PartialFrameClock(),
                requiresWorkerCertificate: tls?.requiresWorkerCertificate ?? false),
        ])
    }

    /// Stops the clock (after `Coordinator.shutdown`).
    public func stopTicking() {
        ticks.withLock { ticks in
            ticks.forEach { $0.cancel() }
            ticks.removeAll()
        }
    }
}

/// Counts the bytes that cross the socket: for /metrics, and per connection for its backpressure.
final class ByteCountingHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let metrics: CoordinatorMetrics
    /// Bytes written towards this connection's peer so far (event loop only).
    private(set) var connectionBytesOut: UInt64 = 0

    init(metrics: CoordinatorMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        metrics.bytesIn.increment(by: Int64(unwrapInboundIn(data).readableBytes))
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let count = UInt64(unwrapOutboundIn(data).readableBytes)
        connectionBytesOut &+= count
        metrics.bytesOut.increment(by: Int64(count))
        context.write(data, promise: promise)
    }
}
