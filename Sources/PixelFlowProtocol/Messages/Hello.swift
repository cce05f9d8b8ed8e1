import NIOCore

/// HELLO (coordinator → peer, stream 0): the challenge. `nonce [32] · handshake_timeout_ms u32 · server str`.
public struct Hello: WirePayload {
    public static let frameType = FrameType.hello
    public static let nonceSize = 32

    public var nonce: [UInt8]
    public var handshakeTimeoutMilliseconds: UInt32
    public var server: String

    public init(nonce: [UInt8], handshakeTimeoutMilliseconds: UInt32, server: String) {
        self.nonce = nonce
        self.handshakeTimeoutMilliseconds = handshakeTimeoutMilliseconds
        self.server = server
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        nonce = try buffer.readFixedBytes(Hello.nonceSize, "nonce")
        handshakeTimeoutMilliseconds = try buffer.readField(UInt32.self, "handshake_timeout_ms")
        server = try buffer.readWireString("server")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeBytes(nonce)
        buffer.writeInteger(handshakeTimeoutMilliseconds)
        buffer.writeWireString(server)
    }
}
