/// A PixelFlow error code as it travels on the wire (u16). Unknown codes from newer peers are kept as they are.
/// The table with every code's meaning is in proto/PROTOCOL.md §9.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    // Connection errors: sent in GOAWAY, then the connection closes.
    public static let none = ErrorCode(rawValue: 0)
    public static let protocolError = ErrorCode(rawValue: 1)
    public static let unsupportedVersion = ErrorCode(rawValue: 2)
    public static let unauthorized = ErrorCode(rawValue: 3)
    public static let handshakeTimeout = ErrorCode(rawValue: 4)
    public static let frameTooLarge = ErrorCode(rawValue: 5)
    public static let unknownFrameType = ErrorCode(rawValue: 6)
    public static let wrongRole = ErrorCode(rawValue: 7)
    public static let compressionError = ErrorCode(rawValue: 8)
    public static let shuttingDown = ErrorCode(rawValue: 9)
    /// No request and no PING for the idle timeout, or a frame that did not complete in time.
    public static let idleTimeout = ErrorCode(rawValue: 10)
    /// The peer did not read what was sent to it within the write-stall timeout.
    public static let slowReader = ErrorCode(rawValue: 11)
    /// Too many failed handshakes from this address: it must wait before trying again.
    public static let loginThrottled = ErrorCode(rawValue: 12)

    // Request errors: sent in REJECTED, JOB_FAILED or TASK_FAILED; the connection stays open.
    public static let rateLimited = ErrorCode(rawValue: 100)
    public static let queueFull = ErrorCode(rawValue: 101)
    public static let tooManyInFlight = ErrorCode(rawValue: 102)
    public static let invalidPipeline = ErrorCode(rawValue: 103)
    public static let sourceTooLarge = ErrorCode(rawValue: 104)
    public static let undecodableImage = ErrorCode(rawValue: 105)
    public static let imageTooLarge = ErrorCode(rawValue: 106)
    public static let unsupportedFormat = ErrorCode(rawValue: 107)
    public static let timeout = ErrorCode(rawValue: 108)
    public static let cancelled = ErrorCode(rawValue: 109)
    public static let notFound = ErrorCode(rawValue: 110)
    public static let `internal` = ErrorCode(rawValue: 111)
    public static let retriesExhausted = ErrorCode(rawValue: 112)
    public static let deadlineExceeded = ErrorCode(rawValue: 113)
    public static let unavailable = ErrorCode(rawValue: 114)
    /// A request field is invalid (e.g. `webhook_url` that is not an http(s) URL).
    public static let invalidRequest = ErrorCode(rawValue: 115)
    /// The idempotency key names an earlier job with a different pipeline or source.
    public static let idempotencyConflict = ErrorCode(rawValue: 116)
    /// The coordinator's job store could not record or read the job (full disk, damaged file); retryable later.
    public static let storageError = ErrorCode(rawValue: 117)

    public static let known: [ErrorCode] = [
        .none, .protocolError, .unsupportedVersion, .unauthorized, .handshakeTimeout, .frameTooLarge,
        .unknownFrameType, .wrongRole, .compressionError, .shuttingDown, .idleTimeout, .slowReader, .loginThrottled,
        .rateLimited, .queueFull, .tooManyInFlight, .invalidPipeline, .sourceTooLarge, .undecodableImage,
        .imageTooLarge, .unsupportedFormat, .timeout, .cancelled, .notFound, .internal, .retriesExhausted,
        .deadlineExceeded, .unavailable, .invalidRequest, .idempotencyConflict,
        .storageError,
    ]

    /// The stable lower-case name used in logs, JSON output and the spec.
    public var name: String {
        switch self {
        case .none: "none"
        case .protocolError: "protocol_error"
        case .unsupportedVersion: "unsupported_version"
        case .unauthorized: "unauthorized"
        case .handshakeTimeout: "handshake_timeout"
        case .frameTooLarge: "frame_too_large"
        case .unknownFrameType: "unknown_frame_type"
        case .wrongRole: "wrong_role"
        case .compressionError: "compression_error"
        case .shuttingDown: "shutting_down"
        case .idleTimeout: "idle_timeout"
        case .slowReader: "slow_reader"
        case .loginThrottled: "login_throttled"
        case .rateLimited: "rate_limited"
        case .queueFull: "queue_full"
        case .tooManyInFlight: "too_many_in_flight"
        case .invalidPipeline: "invalid_pipeline"
        case .sourceTooLarge: "source_too_large"
        case .undecodableImage: "undecodable_image"
        case .imageTooLarge: "image_too_large"
        case .unsupportedFormat: "unsupported_format"
        case .timeout: "timeout"
        case .cancelled: "cancelled"
        case .notFound: "not_found"
        case .internal: "internal"
        case .retriesExhausted: "retries_exhausted"
        case .deadlineExceeded: "deadline_exceeded"
        case .unavailable: "unavailable"
        case .invalidRequest: "invalid_request"
        case .idempotencyConflict: "idempotency_conflict"
        case .storageError: "storage_error"
        default: "code_\(rawValue)"
        }
    }

    /// Whether a request that failed with this code may succeed if sent again later.
    public var isRetryable: Bool {
        [
            .rateLimited, .queueFull, .tooManyInFlight, .unavailable, .shuttingDown, .timeout, .idleTimeout,
            .slowReader, .loginThrottled, .storageError,
        ].contains(self)
    }

    public var description: String { name }
}
