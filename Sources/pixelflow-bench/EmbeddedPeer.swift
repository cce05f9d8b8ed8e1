import NIOCore
import NIOEmbedded
import PixelFlowCoordinator
import PixelFlowProtocol

/// One peer of the coordinator on an in-memory channel: what it sends goes through the coordinator's real
/// connection pipeline as bytes, and what the coordinator writes back is decoded here. Everything runs on the calling thread, so a run is repeatable instruction for instruction.
final class EmbeddedPeer {
    let channel = EmbeddedChannel()
    private var decoder = NIOSingleStepByteToMessageProcessor(FrameDecoder(from: [.coordinator]))
    private var outgoing = ByteBuffer()

    init(coordinator: Coordinator, port: Int) throws {
        try CoordinatorServer.addConnectionHandlers(to: channel, coordinator: coordinator)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: port)).wait()
    }

    /// Authenticates as `role`; returns once AUTH_OK is in.
    func handshake(role: PeerRole, keyID: String, secret: [UInt8]) throws {
        var machine = ClientHandshakeStateMachine(role: role, keyID: keyID, secret: secret)
        queue(machine.opening)
        try flush()
        while true {
            let elements = try receiveElements()
            guard !elements.isEmpty else { throw BenchFailure("the coordinator stopped answering the handshake") }
            for element in elements {
                switch machine.receive(element) {
                case .send(let replies):
                    replies.forEach(queue)
                    try flush()
                case .established:
                    return
                case .fail(let error):
                    throw BenchFailure("handshake refused: \(error)")
                case .none:
                    continue
                }
            }
        }
    }

    /// Adds an element to what the next `flush` sends in one read.
    func queue(_ element: WireElement) {
        element.write(to: &outgoing)
    }

    /// Hands the queued bytes to the coordinator as one socket read would.
    func flush() throws {
        guard outgoing.readableBytes > 0 else { return }
        let bytes = outgoing
        outgoing.clear()
        try channel.writeInbound(bytes)
        channel.pipeline.fireChannelReadComplete()
        channel.embeddedEventLoop.run()
    }

    /// Runs what other connections scheduled on this one (deliveries, flushes) and decodes what it wrote.
    func receive() throws -> [Frame] {
        try receiveElements().compactMap {
            guard case .frame(let frame) = $0 else { return nil }
            return frame
        }
    }

    private func receiveElements() throws -> [WireElement] {
        channel.embeddedEventLoop.run()
        var elements: [WireElement] = []
        while let bytes = try channel.readOutbound(as: ByteBuffer.self) {
            try decoder.process(buffer: bytes) { elements.append($0) }
        }
        return elements
    }
}
