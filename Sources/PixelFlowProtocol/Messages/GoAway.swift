import NIOCore

/// GOAWAY (any → any, stream 0): the sender closes the connection. `code u16 · message str`.
/// With code `none` or `shutting_down` it is graceful: in-flight work finishes first.
public struct GoAway: WirePayload {
    public static let frameType = FrameType.goAway
    public var code: ErrorCode
    public var message: String

    public init(code: ErrorCode, message: String) {
        self.code = code
        self.message = message
    }

    public init(_ error: ProtocolError) { self.init(code: error.code, message: error.message) }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        code = ErrorCode(rawValue: try buffer.readField(UInt16.self, "code"))
        message = try buffer.readWireString("message")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(code.rawValue)
        buffer.writeWireString(message)
    }
}
