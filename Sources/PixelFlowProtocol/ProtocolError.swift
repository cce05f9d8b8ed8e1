/// A typed protocol failure: what went wrong (`code`), in words (`message`), and for rejections how long to wait.
/// Messages describe the frame, never a secret or a proof.
public struct ProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    public var retryAfterMilliseconds: UInt32?

    public init(_ code: ErrorCode, _ message: String, retryAfterMilliseconds: UInt32? = nil) {
        self.code = code
        self.message = message
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }

    public var description: String {
        var text = "\(code.name): \(message)"
        if let retryAfterMilliseconds { text += " (retry after \(retryAfterMilliseconds) ms)" }
        return text
    }

    public static func malformed(_ message: String) -> ProtocolError { ProtocolError(.protocolError, message) }
}
