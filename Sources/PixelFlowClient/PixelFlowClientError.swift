import PixelFlowProtocol

/// Why a client request failed: a typed `code` to switch on, a human-readable `message` (the coordinator's
/// words when it sent some), and the wire `ErrorCode` underneath. Descriptions never contain the secret.
public struct PixelFlowClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A refusal that may succeed later, after `retryAfter` when the coordinator gave an estimate.
    public enum RejectionReason: Sendable, Hashable, CustomStringConvertible {
        /// The tenant is over its token-bucket rate.
        case rateLimited
        /// The global or tenant queue is full.
        case queueFull
        /// More than `max_in_flight` requests open on this connection.
        case tooManyInFlight
        /// The coordinator cannot serve the request now (e.g. no worker can produce a format).
        case unavailable
        /// The coordinator sent a graceful GOAWAY: it opens no new streams on this connection.
        case shuttingDown

        public var description: String {
            switch self {
            case .rateLimited: "rate_limited"
            case .queueFull: "queue_full"
            case .tooManyInFlight: "too_many_in_flight"
            case .unavailable: "unavailable"
            case .shuttingDown: "shutting_down"
            }
        }
    }

    public enum Code: Sendable, Hashable, CustomStringConvertible {
        case rejected(RejectionReason, retryAfter: Duration?)
        /// The pipeline JSON is invalid; the message names the field.
        case invalidPipeline
        case sourceTooLarge
        case undecodableImage
        case imageTooLarge
        case unsupportedFormat
        /// Wrong key id or secret, or the coordinator could not prove it knows the secret.
        case unauthorized
        /// The connection closed (or could not be opened) while the request was pending.
        case connectionLost
        /// The coordinator broke the protocol, or said this client did.
        case protocolViolation
        /// The handshake took too long, or the job exceeded its time limit.
        case timeout
        /// The job was cancelled, or the waiting task was.
        case cancelled
        /// No such job for this tenant.
        case notFound
        /// Any other coordinator code (`internal`, `retries_exhausted`, `deadline_exceeded`, codes from newer peers).
        case other(ErrorCode)

        public var description: String {
            switch self {
            case .rejected(let reason, let retryAfter):
                if let retryAfter { "rejected(\(reason), retry after \(retryAfter))" } else { "rejected(\(reason))" }
            case .invalidPipeline: "invalid_pipeline"
            case .sourceTooLarge: "source_too_large"
            case .undecodableImage: "undecodable_image"
            case .imageTooLarge: "image_too_large"
            case .unsupportedFormat: "unsupported_format"
            case .unauthorized: "unauthorized"
            case .connectionLost: "connection_lost"
            case .protocolViolation: "protocol_error"
            case .timeout: "timeout"
            case .cancelled: "cancelled"
            case .notFound: "not_found"
            case .other(let code): code.name
            }
        }
    }

    public var code: Code
    public var message: String
    /// The wire code behind `code` (`none` for failures found locally, such as a lost connection).
    public var underlying: ErrorCode
    /// The job concerned, when the coordinator named one (JOB_FAILED).
    public var jobID: JobID?

    public init(_ code: Code, _ message: String, underlying: ErrorCode = .none, jobID: JobID? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.jobID = jobID
    }

    /// How long the coordinator asked to wait before retrying, for rejections that carry an estimate.
    public var retryAfter: Duration? {
        if case .rejected(_, let retryAfter) = code { return retryAfter }
        return nil
    }

    /// Whether sending the same request again later may succeed.
    public var isRetryable: Bool {
        switch code {
        case .rejected, .connectionLost, .timeout: true
        case .invalidPipeline, .sourceTooLarge, .undecodableImage, .imageTooLarge, .unsupportedFormat,
            .unauthorized, .protocolViolation, .cancelled, .notFound:
            false
        case .other(let code): code.isRetryable
        }
    }

    /// The stable snake_case name of the failure, as pfctl prints it in JSON (`rate_limited`, `connection_lost`…).
    public var name: String {
        switch code {
        case .rejected(let reason, _): reason.description
        default: code.description
        }
    }

    public var description: String {
        var text = "\(name): \(message)"
        if let retryAfter { text += " (retry after \(retryAfter))" }
        return text
    }

    /// Maps a code the coordinator sent (REJECTED, JOB_FAILED, GOAWAY) to the client's typed error.
    public init(wire code: ErrorCode, message: String, retryAfterMilliseconds: UInt32 = 0, jobID: JobID? = nil) {
        let retryAfter: Duration? = retryAfterMilliseconds == 0 ? nil : .milliseconds(Int64(retryAfterMilliseconds))
        let typed: Code
        switch code {
        case .rateLimited: typed = .rejected(.rateLimited, retryAfter: retryAfter)
        case .queueFull: typed = .rejected(.queueFull, retryAfter: retryAfter)
        case .tooManyInFlight: typed = .rejected(.tooManyInFlight, retryAfter: retryAfter)
        case .unavailable: typed = .rejected(.unavailable, retryAfter: retryAfter)
        case .shuttingDown: typed = .rejected(.shuttingDown, retryAfter: retryAfter)
        case .invalidPipeline: typed = .invalidPipeline
        case .sourceTooLarge: typed = .sourceTooLarge
        case .undecodableImage: typed = .undecodableImage
        case .imageTooLarge: typed = .imageTooLarge
        case .unsupportedFormat: typed = .unsupportedFormat
        case .unauthorized: typed = .unauthorized
        case .timeout, .handshakeTimeout: typed = .timeout
        case .cancelled: typed = .cancelled
        case .notFound: typed = .notFound
        case .protocolError, .frameTooLarge, .unknownFrameType, .wrongRole, .compressionError, .unsupportedVersion:
            typed = .protocolViolation
        default: typed = .other(code)
        }
        self.init(typed, message, underlying: code, jobID: jobID)
    }

    init(_ error: ProtocolError) {
        self.init(wire: error.code, message: error.message, retryAfterMilliseconds: error.retryAfterMilliseconds ?? 0)
    }

    static func connectionLost(_ message: String) -> PixelFlowClientError {
        PixelFlowClientError(.connectionLost, message)
    }

    static let cancelledByTask = PixelFlowClientError(.cancelled, "the waiting task was cancelled")
}
