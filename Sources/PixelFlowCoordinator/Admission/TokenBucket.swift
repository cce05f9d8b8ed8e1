import NIOCore

/// A token bucket: `rate` tokens a second, at most `burst` saved up. Pure: the caller passes the time.
public struct TokenBucket: Sendable, Hashable {
    public let rate: Double
    public let burst: Double
    public private(set) var tokens: Double
    private var updated: NIODeadline

    /// Rates and bursts a bucket accepts; the config is validated against them.
    public static let rates: ClosedRange<Double> = 0.001...1_000_000
    public static let bursts: ClosedRange<Double> = 1...1_000_000
    /// The longest `retryAfter` reported: whatever the arithmetic says, a client is never told to wait longer.
    public static let longestWait: TimeAmount = .seconds(3_600)

    public enum Decision: Sendable, Hashable {
        case admitted
        /// Not enough tokens: this long until there will be.
        case rejected(retryAfter: TimeAmount)
    }

    /// Starts full, so a tenant can burst at once. Rate and burst are clamped into `rates` and `bursts`.
    public init(rate: Double, burst: Double, now: NIODeadline) {
        self.rate = rate.isFinite ? min(max(rate, Self.rates.lowerBound), Self.rates.upperBound) : Self.rates.lowerBound
        self.burst =
            burst.isFinite ? min(max(burst, Self.bursts.lowerBound), Self.bursts.upperBound) : Self.bursts.lowerBound
        self.tokens = self.burst
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
        let nanoseconds = min((missing / rate * 1e9).rounded(.up), Double(Self.longestWait.nanoseconds))
        return .rejected(retryAfter: .nanoseconds(Int64(max(1, nanoseconds))))
    }

    private mutating func refill(now: NIODeadline) {
        guard now > updated else { return }
        let elapsed = Double((now - updated).nanoseconds) / 1e9
        tokens = min(burst, tokens + elapsed * rate)
        updated = now
    }
}
