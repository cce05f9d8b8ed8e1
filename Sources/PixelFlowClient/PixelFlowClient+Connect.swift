import NIOCore
import NIOPosix
import PixelFlowProtocol

@_exported import struct PixelFlowTLS.ClientTLS

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
        /// Connecting again after the connection is lost while the client is open; nil: a lost connection fails
        /// every pending and later request with ``PixelFlowClientError/Code/connectionLost``.
        public var reconnect: ReconnectPolicy? = ReconnectPolicy()
        /// TLS 1.3 to a coordinator with `tls.cert` (its certificate checked against a CA file); nil: plain TCP.
        public var tls: ClientTLS?

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
        let holder = ConnectionHolder(reconnects: configuration.reconnect != nil)
        let link = Link(host: host, port: port, keyID: keyID, secret: secret, configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            let (firstConnection, firstSink) = AsyncThrowingStream<ClientConnection, any Error>.makeStream()
            group.addTask { await link.supervise(holder, first: firstSink) }
            let first: ClientConnection
            do {
                first = try await Self.first(firstConnection)
            } catch {
                try await group.waitForAll()
                throw ClientConnection.typed(error)
            }
            let client = PixelFlowClient(holder: holder, first: first)
            let result: Swift.Result<Result, any Error>
            do {
                result = .success(try await body(client))
            } catch {
                result = .failure(error)
            }
            let closing = holder.beginClosing()
            closing?.connection.close(
                .connectionLost("the connection was closed by the client"),
                goAway: GoAway(code: .none, message: "client closing"))
            // If the coordinator stops reading, do not wait for the GOAWAY forever.
            let forceClose = closing.map { closing in
                configuration.eventLoopGroup.next().scheduleTask(in: .seconds(2)) { closing.closeChannel() }
            }
            try await group.waitForAll()
            forceClose?.cancel()
            return try result.get()
        }
    }

    /// Where and how to connect, and the loop that keeps a client connected.
    struct Link: Sendable {
        let host: String
        let port: Int
        let keyID: String
        let secret: String
        let configuration: Configuration

        /// Connects, and connects again each time the connection is lost while the client is open, with backoff,
        /// until the client closes or `ReconnectPolicy.giveUpAfter` passes without a connection. The first
        /// connection (or why it failed) goes to `first`; a failed first attempt is not retried.
        func supervise(
            _ holder: ConnectionHolder, first: AsyncThrowingStream<ClientConnection, any Error>.Continuation
        ) async {
            var isFirst = true
            var failures = 0
            var lostSince: ContinuousClock.Instant?
            while !holder.isClosing {
                do {
                    try await run { connection, closeChannel in
                        holder.install(connection, closeChannel: closeChannel)
                        if isFirst {
                            isFirst = false
                            first.yield(connection)
                            first.finish()
                        }
                        failures = 0
                        lostSince = nil
                    }
                } catch {
                    let failure = ClientConnection.typed(error)
                    if isFirst {
                        first.finish(throwing: failure)
                        holder.fail(failure)
                        return
                    }
                    if failure.code == .unauthorized {  // the key was revoked: another attempt cannot succeed
                        holder.fail(failure)
                        return
                    }
                }
                guard !holder.isClosing else { return }
                guard let policy = configuration.reconnect else {
                    holder.fail(.connectionLost("the connection to the coordinator was lost"))
                    return
                }
                let since = lostSince ?? .now
                lostSince = since
                guard ContinuousClock.now - since < policy.giveUpAfter else {
                    holder.fail(
                        .connectionLost("no connection to \(host):\(port) for \(policy.giveUpAfter); giving up"))
                    return
                }
                failures += 1
                try? await Task.sleep(for: policy.delay(afterFailures: failures))
            }
        }

        /// One connection: connect, authenticate, hand it over, and run its loops until it closes. Throws when
        /// the connection or its handshake fails.
        private func run(
            _ established: (ClientConnection, _ closeChannel: @escaping @Sendable () -> Void) -> Void
        ) async throws {
            let channel = try await PixelFlowClient.connectChannel(host: host, port: port, configuration: configuration)
            let queue = OutboundQueue()
            let (handshakeDone, handshakeSink) = AsyncThrowingStream<ClientConnection, any Error>.makeStream()
            let handshake = ClientHandshakeStateMachine(role: .client, keyID: keyID, secret: Array(secret.utf8))
            let configuration = self.configuration
            try await channel.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        await ConnectionLoops.write(queue, to: outbound, channel: channel.channel)
                    }
                    group.addTask {
                        await ConnectionLoops.read(
                            inbound, queue: queue, handshake: handshake, configuration: configuration,
                            channel: channel.channel, established: handshakeSink)
                    }
                    let connection: ClientConnection
                    do {
                        connection = try await PixelFlowClient.first(handshakeDone)
                    } catch {
                        queue.close(PixelFlowClientError.connectionLost("handshake failed"), discardPending: true)
                        channel.channel.close(promise: nil)
                        try await group.waitForAll()
                        throw error
                    }
                    established(connection) { channel.channel.close(promise: nil) }
                    let keepalive = configuration.keepaliveInterval.map { interval in
                        channel.channel.eventLoop.scheduleRepeatedTask(
                            initialDelay: TimeAmount(interval), delay: TimeAmount(interval)
                        ) { task in
                            if !queue.enqueue(.frame(Frame(.ping(Ping(opaque: 0))))) { task.cancel() }
                        }
                    }
                    defer { keepalive?.cancel() }
                    try await group.waitForAll()
                }
            }
        }
    }

    static func first(
        _ stream: AsyncThrowingStream<ClientConnection, any Error>
    ) async throws -> ClientConnection {
        for try await connection in stream { return connection }
        throw PixelFlowClientError.connectionLost("the connection closed during the handshake")
    }

    static func connectChannel(
        host: String, port: Int, configuration: Configuration
    ) async throws(PixelFlowClientError) -> CoordinatorLink.Channel {
        do {
            return try await CoordinatorLink.connect(
                host: host, port: port, acceptedLimits: configuration.receiveLimits.wire,
                connectTimeout: TimeAmount(configuration.connectTimeout), group: configuration.eventLoopGroup,
                secure: configuration.tls?.securing(host: host))
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
