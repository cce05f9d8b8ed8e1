import NIOCore
import NIOPosix
import PixelFlowProtocol

extension PixelFlowClient {
    /// How a connection is opened: timeouts, the largest frames accepted, keepalive, and the event loops to use.
    public struct Configuration: Sendable {
        /// Time allowed for the TCP connection to open.
        public var connectTimeout: Duration = .seconds(10)
        /// Time allowed from the TCP connection to a verified handshake.
        public var handshakeTimeout: Duration = .seconds(10)
        /// The largest frames this client accepts. A coordinator that states larger limits is refused (raise these
        /// to talk to it), so nothing it may legitimately send is ever cut off mid-stream. Only
        /// ``ConnectionLimits/maxControlPayload`` and ``ConnectionLimits/maxChunkData`` apply here.
        public var receiveLimits: ConnectionLimits = .default
        /// A PING is sent this often, so an idle connection is not closed by the coordinator's idle timeout
        /// (`limits.idle_timeout_ms`, default 60 s); nil sends none.
        public var keepaliveInterval: Duration? = .seconds(20)
        /// The SwiftNIO event loops the connection runs on; the shared singleton unless you bring your own.
        public var eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton

        /// The defaults: 10 s to connect and 10 s to authenticate, the protocol's limits, a PING every 20 s.
        public init() {}
    }

    /// Connects to a coordinator, authenticates with `keyID` and `secret` (HMAC handshake: the secret never
    /// crosses the wire), runs `body` with the connected client, then closes the connection.
    ///
    /// The connection's inbound loop (which demultiplexes frames by stream to the waiting requests) and its writer
    /// run as child tasks of this call: nothing outlives it. Every request still pending when `body` returns or
    /// throws fails with `connectionLost`. One connection carries many concurrent requests: call the client from
    /// as many tasks as you like inside `body`.
    ///
    /// - Throws: ``PixelFlowClientError`` (``PixelFlowClientError/Code/connectionLost`` if the coordinator cannot be
    ///   reached, ``PixelFlowClientError/Code/unauthorized`` for a wrong key id or secret,
    ///   ``PixelFlowClientError/Code/timeout`` if the handshake is too slow), or whatever `body` throws.
    public static func withConnection<Result: Sendable>(
        to host: String, port: Int, keyID: String, secret: String, configuration: Configuration = Configuration(),
        _ body: (PixelFlowClient) async throws -> Result
    ) async throws -> Result {
        let channel = try await connectChannel(host: host, port: port, configuration: configuration)
        let queue = OutboundQueue()
        let (established, establishedSink) = AsyncThrowingStream<ClientConnection, any Error>.makeStream()
        let handshake = ClientHandshakeStateMachine(role: .client, keyID: keyID, secret: Array(secret.utf8))

        return try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    await ConnectionLoops.write(queue, to: outbound, channel: channel.channel)
                }
                group.addTask {
                    await ConnectionLoops.read(
                        inbound, queue: queue, handshake: handshake, configuration: configuration,
                        channel: channel.channel, established: establishedSink)
                }
                let connection: ClientConnection
                do {
                    connection = try await Self.first(established)
                } catch {
                    queue.close(PixelFlowClientError.connectionLost("handshake failed"), discardPending: true)
                    channel.channel.close(promise: nil)
                    try await group.waitForAll()
                    throw ClientConnection.typed(error)
                }
                let client = PixelFlowClient(connection: connection)
                let keepalive = configuration.keepaliveInterval.map { interval in
                    channel.channel.eventLoop.scheduleRepeatedTask(
                        initialDelay: TimeAmount(interval), delay: TimeAmount(interval)
                    ) { task in
                        if !queue.enqueue(.frame(Frame(.ping(Ping(opaque: 0))))) { task.cancel() }
                    }
                }
                defer { keepalive?.cancel() }
                let result: Swift.Result<Result, any Error>
                do {
                    result = .success(try await body(client))
                } catch {
                    result = .failure(error)
                }
                connection.close(
                    .connectionLost("the connection was closed by the client"),
                    goAway: GoAway(code: .none, message: "client closing"))
                // If the coordinator stops reading, do not wait for the GOAWAY forever.
                let forceClose = channel.channel.eventLoop.scheduleTask(in: .seconds(2)) {
                    channel.channel.close(promise: nil)
                }
                try await group.waitForAll()
                forceClose.cancel()
                return try result.get()
            }
        }
    }

    private static func first(
        _ stream: AsyncThrowingStream<ClientConnection, any Error>
    ) async throws -> ClientConnection {
        for try await connection in stream { return connection }
        throw PixelFlowClientError.connectionLost("the connection closed during the handshake")
    }

    private static func connectChannel(
        host: String, port: Int, configuration: Configuration
    ) async throws(PixelFlowClientError) -> CoordinatorLink.Channel {
        do {
            return try await CoordinatorLink.connect(
                host: host, port: port, acceptedLimits: configuration.receiveLimits.wire,
                connectTimeout: TimeAmount(configuration.connectTimeout), group: configuration.eventLoopGroup)
        } catch {
            throw .connectionLost("cannot connect to \(host):\(port): \(error)")
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
