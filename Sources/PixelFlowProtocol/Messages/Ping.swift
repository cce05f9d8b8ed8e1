import NIOCore

/// PING (any → any, stream 0): `opaque u64`, echoed unchanged in PONG.
public struct Ping: WirePayload {
    public static let frameType = FrameType.ping
    public var opaque: UInt64
    public init(opaque: UInt64) { self.opaque = opaque }
    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        opaque = try buffer.readField(UInt64.self, "opaque")
    }
    public func write(to buffer: inout ByteBuffer) { buffer.writeInteger(opaque) }
}
