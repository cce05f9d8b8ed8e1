extension PixelFlowClientError {
    /// The kind of a failure. A struct rather than an enum so that new kinds can be added without breaking
    /// callers: compare with `==`, or `switch` with a `default:` case.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: Hashable, Sendable {
            case rejected, invalidPipeline, sourceTooLarge, undecodableImage, imageTooLarge, unsupportedFormat
            case unauthorized, connectionLost, protocolViolation, timeout, cancelled, notFound, storageError, other
        }

        private let kind: Kind

        private init(_ kind: Kind) { self.kind = kind }

        /// The coordinator refused the request for now; see ``PixelFlowClientError/rejectionReason`` and
        /// ``PixelFlowClientError/retryAfter``.
        public static let rejected = Code(.rejected)
        /// The pipeline JSON is invalid; the message names the field (e.g. `pipeline[0].width`).
        public static let invalidPipeline = Code(.invalidPipeline)
        /// The source is larger than the coordinator's `max_source_bytes`.
        public static let sourceTooLarge = Code(.sourceTooLarge)
        /// The source is not an image the workers can decode.
        public static let undecodableImage = Code(.undecodableImage)
        /// The source image's dimensions exceed what the workers accept.
        public static let imageTooLarge = Code(.imageTooLarge)
        /// A variant asks for an output format no worker can produce.
        public static let unsupportedFormat = Code(.unsupportedFormat)
        /// Wrong key id or secret, or the coordinator could not prove it knows the secret.
        public static let unauthorized = Code(.unauthorized)
        /// The connection closed (or could not be opened) while the request was pending.
        public static let connectionLost = Code(.connectionLost)
        /// The coordinator broke the protocol, or said this client did.
        public static let protocolViolation = Code(.protocolViolation)
        /// The handshake took too long, or the job exceeded its time limit.
        public static let timeout = Code(.timeout)
        /// The job was cancelled, or the waiting task was.
        public static let cancelled = Code(.cancelled)
        /// No such job for this tenant.
        public static let notFound = Code(.notFound)
        /// The coordinator's job store could not keep or read the job. Nothing was kept when a submission gets
        /// it (``PixelFlowClientError/retryAfter`` says when to try again); a job that fails with it lost its
        /// stored source or results.
        public static let storageError = Code(.storageError)
        /// Any other coordinator code (`internal`, `retries_exhausted`, `deadline_exceeded`, codes from newer
        /// coordinators); ``PixelFlowClientError/protocolCode`` names it.
        public static let other = Code(.other)

        /// The code's snake_case name (`invalid_pipeline`, `connection_lost`…).
        public var description: String {
            switch kind {
            case .rejected: "rejected"
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
            case .storageError: "storage_error"
            case .other: "other"
            }
        }
    }
}
