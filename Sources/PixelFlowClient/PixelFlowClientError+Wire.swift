import PixelFlowProtocol

extension PixelFlowClientError {
    /// Maps a code the coordinator sent (REJECTED, JOB_FAILED, GOAWAY, STATUS) to the client's typed error.
    init(wire code: ErrorCode, message: String, retryAfterMilliseconds: UInt32 = 0, jobID: JobID? = nil) {
        self.init(Self.code(forWire: code), message, wireCode: code, jobID: jobID)
        rejectionReason = RejectionReason(wire: code)
        if rejectionReason != nil || code == .storageError, retryAfterMilliseconds > 0 {
            retryAfter = .milliseconds(Int64(retryAfterMilliseconds))
        }
    }

    init(_ error: ProtocolError) {
        self.init(wire: error.code, message: error.message, retryAfterMilliseconds: error.retryAfterMilliseconds ?? 0)
    }

    private static func code(forWire code: ErrorCode) -> Code {
        switch code {
        case .rateLimited, .queueFull, .tooManyInFlight, .unavailable, .shuttingDown: .rejected
        case .invalidPipeline: .invalidPipeline
        case .sourceTooLarge: .sourceTooLarge
        case .undecodableImage: .undecodableImage
        case .imageTooLarge: .imageTooLarge
        case .unsupportedFormat: .unsupportedFormat
        case .unauthorized: .unauthorized
        case .timeout, .handshakeTimeout: .timeout
        case .cancelled: .cancelled
        case .notFound: .notFound
        case .storageError: .storageError
        case .protocolError, .frameTooLarge, .unknownFrameType, .wrongRole, .compressionError, .unsupportedVersion:
            .protocolViolation
        default: .other
        }
    }

    static func connectionLost(_ message: String) -> PixelFlowClientError {
        PixelFlowClientError(.connectionLost, message)
    }

    static let cancelledByTask = PixelFlowClientError(.cancelled, "the waiting task was cancelled")
}
