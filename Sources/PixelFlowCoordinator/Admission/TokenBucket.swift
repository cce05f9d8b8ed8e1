import NIOCore

/// A token bucket: `rate` tokens a second, at most `burst` saved up. Pure: the caller passes the time.
public struct TokenBucket: Sendable, Hashable {
    public let rate: Double
    public let burst: Double
    public private(set) var tokens: Double
    private var updated: NIODeadline

    public enum Decision: Sendable, Hashable {
        case admitted
        /// Not enough tokens: this long until there will be.
        case rejected(retryAfter: TimeAmount)
    }

    /// Starts full, so a tenant can burst at once.
    public init(rate: Double, burst: Double, now: NIODeadline) {
        precondition(rate > 0 && burst >= 1, "a bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = now
    }

    /// Takes `cost` tokens if there are that many; otherwise takes nothing and says when there will be.
    public mutating func take(_ cost: Double = 1, now: NIODeadline) -> Decision {
        refill(now: now)
        if tokens >= cost {
            tokens -= cost
            return .admitted
        }
        let missing = min(cost, burst) - tokens
        let nanoseconds = (missing / rate * 1e9).rounded(.up)
        return .rejected(retryAfter: .nanoseconds(Int64(nanoseconds)))
    }

    private mutating func refill(now: NIODeadline) {
        guard now > updated else { return }
        let elapsed = Double((now - updated).nanoseconds) / 1e9
        tokens = min(burst, tokens + elapsed * rate)
        updated = now
    }
}
