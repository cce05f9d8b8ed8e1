import NIOCore
import NIOPosix

/// The one way a client or a worker reaches the coordinator: TCP without Nagle, the frame decoder and the
/// batching encoder, then the handshake to a verified AUTH_OK within a deadline, with the coordinator's limits
/// checked against what this side accepts. `PixelFlowClient` and `WorkerSession` both go through here.
public enum CoordinatorLink {
    public typealias Channel = NIOAsyncChannel<WireElement, WireElement>
    public typealias Frames = NIOAsyncChannelInboundStream<WireElement>.AsyncIterator

    /// Opens the TCP connection with the coordinator's framing. The decoder starts at the protocol's default
    /// limits (the handshake's frames are small) and, once AUTH_OK arrives, takes the limits the coordinator
    /// announced, up to `acceptedLimits`: they bind both directions (PROTOCOL.md §6.1).
    /// `secure`, when given, puts a TLS handler first in the pipeline (PixelFlowTLS's `ClientTLS.addHandler`).
    public static func connect(
        host: String, port: Int, acceptedLimits: ProtocolLimits, connectTimeout: TimeAmount,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        secure: (@Sendable (any NIOCore.Channel) throws -> Void)? = nil
    ) async throws -> Channel {
        try await ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try secure?(channel)
                    var handshakeLimits = ProtocolLimits.default
                    handshakeLimits.maxControlPayload = min(
                        handshakeLimits.maxControlPayload, acceptedLimits.maxControlPayload)
                    handshakeLimits.maxChunkData = min(handshakeLimits.maxChunkData, acceptedLimits.maxChunkData)
                    let decoder = FrameDecoder(
                        limits: handshakeLimits, from: [.coordinator], adoptingAnnouncedLimitsUpTo: acceptedLimits)
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
                    try channel.pipeline.syncOperations.addHandler(BatchingFrameEncoder())
                    return try Channel(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Runs `machine` to AUTH_OK: its opening and replies go out through `send`, the coordinator's frames come
    /// from `frames`. Closes `channel` and throws `handshake_timeout` when `timeout` passes first; throws
    /// `frame_too_large` when the coordinator states limits above `acceptedLimits` (this side would cut its
    /// frames off mid-stream), and the handshake's own errors (`unauthorized`, a GOAWAY's code, …).
    public static func authenticate(
        _ machine: ClientHandshakeStateMachine, frames: inout Frames, channel: any NIOCore.Channel,
        acceptedLimits: ProtocolLimits, timeout: TimeAmount, send: ([WireElement]) async throws -> Void
    ) async throws -> ClientHandshakeStateMachine.Session {
        let deadline = NIODeadline.now() + timeout
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) { channel.close(promise: nil) }
        defer { timer.cancel() }
        var machine = machine
        do {
            try await send([machine.opening])
            while let element = try await frames.next() {
                switch machine.receive(element) {
                case .send(let elements):
                    try await send(elements)
                case .established(let session):
                    try check(session.limits, against: acceptedLimits)
                    return session
                case .fail(let error):
                    throw error
                case .none:
                    continue
                }
            }
        } catch let error as ProtocolError {
            throw error
        } catch {
            if NIODeadline.now() >= deadline { throw timedOut(timeout) }
            throw error
        }
        if NIODeadline.now() >= deadline { throw timedOut(timeout) }
        throw ProtocolError(.protocolError, "the coordinator closed the connection during the handshake")
    }

    private static func timedOut(_ timeout: TimeAmount) -> ProtocolError {
        ProtocolError(.handshakeTimeout, "no AUTH_OK within \(timeout.milliseconds) ms")
    }

    private static func check(_ limits: ProtocolLimits, against accepted: ProtocolLimits) throws(ProtocolError) {
        guard limits.maxChunkData <= accepted.maxChunkData, limits.maxControlPayload <= accepted.maxControlPayload
        else {
            throw ProtocolError(
                .frameTooLarge,
                "the coordinator's limits (max_chunk_data \(limits.maxChunkData), max_control_payload "
                    + "\(limits.maxControlPayload)) exceed what this side accepts (\(accepted.maxChunkData), "
                    + "\(accepted.maxControlPayload))")
        }
    }
}
