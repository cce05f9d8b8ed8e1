import PixelFlowClient

/// When a rejected submission is worth repeating: rate_limited and queue_full, after the coordinator's
/// `retry_after_ms` (or a short default when it gave none), at most `maxRetries` times per source.
struct RetryPolicy: Sendable {
    var maxRetries: Int
    var defaultDelay: Duration = .milliseconds(100)
    var longestDelay: Duration = .seconds(30)

    /// The pause before retry number `retriesSoFar + 1`, or nil to give up.
    func delay(after error: PixelFlowClientError, retriesSoFar: Int) -> Duration? {
        guard retriesSoFar < maxRetries else { return nil }
        switch error.rejectionReason {
        case .rateLimited, .queueFull:
            return min(error.retryAfter ?? defaultDelay, longestDelay)
        default:
            return nil
        }
    }
}
