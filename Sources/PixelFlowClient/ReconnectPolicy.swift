extension PixelFlowClient {
    /// What a client does when its connection to the coordinator is lost while it is in use (the coordinator
    /// restarted, the network dropped): connect again with backoff, then carry on. Requests in progress are sent
    /// again on the new connection — stream jobs (``PixelFlowClient/process(source:pipeline:options:)``) are
    /// resubmitted under their idempotency key (the caller's, or one generated for the job) and skip the variants
    /// already delivered, or run afresh if they ended meanwhile; async submissions keep
    /// their key, so a job the coordinator already accepted is not submitted twice.
    public struct ReconnectPolicy: Sendable, Hashable {
        /// The first wait before connecting again; it doubles per failed attempt.
        public var initialDelay: Duration = .milliseconds(100)
        /// The longest wait between attempts. Each wait is shortened at random by up to a fifth, so clients that
        /// lost the same coordinator do not all come back at once.
        public var maxDelay: Duration = .seconds(5)
        /// How long the client may stay without a connection before it gives up: pending and new requests then
        /// fail with ``PixelFlowClientError/Code/connectionLost``.
        public var giveUpAfter: Duration = .seconds(60)

        /// 100 ms doubling to 5 s, for at most 60 s without a connection.
        public init() {}

        func delay(afterFailures failures: Int) -> Duration {
            let doubled = initialDelay * (1 << min(max(failures - 1, 0), 20))
            let capped = min(doubled, maxDelay)
            return capped - capped * (Double.random(in: 0...0.2))
        }
    }
}
