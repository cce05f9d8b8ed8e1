import NIOCore

/// REJECTED (coordinator → client, on the request's stream): the request failed and the stream is closed.
/// `code u16 · retry_after_ms u32 · message str`; `retry_after_ms` is 0 when retrying will not help.
public struct Rejected: WirePayload {
    public static let frameType = FrameType.rejected
    public var code: ErrorCode
    public var retryAfterMilliseconds: UInt32
    public var message: String

    public init(code: ErrorCode, retryAfterMilliseconds: UInt32 = 0, message: String) {
        self.code = code
        self.retryAfterMilliseconds = retryAfterMilliseconds
        self.message = message
    }

    public init(_ error: ProtocolError) {
        self.init(code: error.code, retryAfterMilliseconds: error.retryAfterMilliseconds ?? 0, message: error.message)
    }

    public var error: ProtocolError {
        ProtocolError(code, message, retryAfterMilliseconds: retryAfterMilliseconds == 0 ? nil : retryAfterMilliseconds)
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        code = ErrorCode(rawValue: try buffer.readField(UInt16.self, "code"))
        retryAfterMilliseconds = try buffer.readField(UInt32.self, "retry_after_ms")
        message = try buffer.readWireString("message")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(code.rawValue)
        buffer.writeInteger(retryAfterMilliseconds)
        buffer.writeWireString(message)
    }
}
