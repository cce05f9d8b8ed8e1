import PixelFlowProtocol

extension PixelFlowClientError {
    /// Why the coordinator refused a request that may succeed later. A struct rather than an enum so that new
    /// reasons can be added without breaking callers: compare with `==`, or `switch` with a `default:` case.
    public struct RejectionReason: Hashable, Sendable, CustomStringConvertible {
        /// The protocol code the reason stands for.
        let wireCode: ErrorCode

        private init(_ wireCode: ErrorCode) { self.wireCode = wireCode }

        /// The tenant is over its token-bucket rate.
        public static let rateLimited = RejectionReason(.rateLimited)
        /// The global or tenant queue is full.
        public static let queueFull = RejectionReason(.queueFull)
        /// More than `max_in_flight` requests open on this connection.
        public static let tooManyInFlight = RejectionReason(.tooManyInFlight)
        /// The coordinator cannot serve the request now (e.g. no worker can produce a format).
        public static let unavailable = RejectionReason(.unavailable)
        /// The coordinator is shutting down: it opens no new streams on this connection.
        public static let shuttingDown = RejectionReason(.shuttingDown)

        /// The reason behind a wire code, if the code is a rejection.
        init?(wire code: ErrorCode) {
            guard [ErrorCode.rateLimited, .queueFull, .tooManyInFlight, .unavailable, .shuttingDown].contains(code)
            else { return nil }
            self.init(code)
        }

        /// The reason's snake_case name (`rate_limited`, `queue_full`…), as the protocol spells it.
        public var description: String { wireCode.name }
    }
}
