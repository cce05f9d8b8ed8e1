import NIOCore

/// Failed handshakes per source address, and how long each address must wait before trying again: after
/// `failuresBeforeBackoff` failures the address waits `backoff`, doubling with each further failure up to
/// `maxBackoff`. A success forgets the address. At most `capacity` addresses are remembered (the least recently
/// failed are forgotten first), so a flood from many addresses cannot grow it. Pure: the caller passes the time.
public struct LoginThrottle: Sendable {
    struct Record: Sendable {
        var failures: Int
        var blockedUntil: NIODeadline?
        var lastFailure: NIODeadline
    }

    public let failuresBeforeBackoff: Int
    public let backoff: TimeAmount
    public let maxBackoff: TimeAmount
    public let capacity: Int
    private var records: [String: Record] = [:]

    public init(failuresBeforeBackoff: Int, backoff: TimeAmount, maxBackoff: TimeAmount, capacity: Int) {
        self.failuresBeforeBackoff = max(1, failuresBeforeBackoff)
        self.backoff = backoff
        self.maxBackoff = max(backoff, maxBackoff)
        self.capacity = max(1, capacity)
    }

    /// How long `address` must still wait; nil when it may try now.
    public func wait(for address: String, now: NIODeadline) -> TimeAmount? {
        guard let until = records[address]?.blockedUntil, until > now else { return nil }
        return until - now
    }

    public mutating func failed(_ address: String, now: NIODeadline) {
        var record = records[address] ?? Record(failures: 0, blockedUntil: nil, lastFailure: now)
        record.failures += 1
        record.lastFailure = now
        let over = record.failures - failuresBeforeBackoff
        if over >= 0 {
            let doublings = Int64(min(over, 30))
            let wait = min(
                maxBackoff.nanoseconds,
                backoff.nanoseconds.multipliedReportingOverflow(by: 1 << doublings).overflow
                    ? maxBackoff.nanoseconds : backoff.nanoseconds << doublings)
            record.blockedUntil = now + .nanoseconds(wait)
        }
        records[address] = record
        if records.count > capacity { forgetOldest(now: now) }
    }

    public mutating func succeeded(_ address: String) {
        records[address] = nil
    }

    public var trackedAddresses: Int { records.count }

    /// Drops addresses no longer blocked first, then the least recently failed, down to 3/4 of the capacity
    /// (amortised: this runs once per capacity/4 new addresses).
    private mutating func forgetOldest(now: NIODeadline) {
        records = records.filter { $0.value.blockedUntil.map { $0 > now } ?? false }
        let target = capacity * 3 / 4
        guard records.count > target else { return }
        let keep = records.sorted { $0.value.lastFailure > $1.value.lastFailure }.prefix(target)
        records = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
    }
}
