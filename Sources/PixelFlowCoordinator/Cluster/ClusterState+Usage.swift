import NIOCore
import PixelFlowProtocol
import PixelFlowStore

/// Usage metering (docs/usage.md): what each tenant used, per hour, recorded as it happens and written to the
/// store once per flush interval.
extension ClusterState {
    mutating func meter(_ tenant: String, _ counts: UsageCounts, now: NIODeadline) {
        usage.record(tenant, atUnixMilliseconds: wallClock.unixMilliseconds(at: now), counts)
    }

    /// The store write of what was recorded since the last one, or nil when there is nothing new. Without a
    /// store, buckets older than `usage.retention` are dropped instead.
    public mutating func takeUsageFlush(now: NIODeadline) -> StoreWrite? {
        guard isDurable else {
            let nowHour = UsageLedger.hour(ofUnixMilliseconds: wallClock.unixMilliseconds(at: now))
            usage.forget(before: nowHour - min(nowHour, UInt64(settings.usageRetention.nanoseconds / 1_000_000_000)))
            return nil
        }
        return usage.takeFlush().map { .usage($0.buckets, sequence: $0.sequence) }
    }

    /// The oldest usage write on its way committed, or failed (its counts are written with the next one).
    public mutating func usageFlushEnded(committed: Bool) {
        usage.flushEnded(committed: committed)
    }

    /// Each tenant's usage since the store began, for /metrics.
    public var usageTotals: [String: UsageCounts] { usage.totals }

    /// A page of usage: `stored` (what the store returned, as of batch `storedSequence`) merged with what has not
    /// reached the store. `tenant` nil: every tenant's (an operator key).
    public func usagePage(
        stored: [UsageReport.Bucket], storedSequence: UInt64, request: UsageRequest, tenant: String?
    ) -> UsageReport {
        UsageLedger.page(
            stored: stored, unstored: usage.unstored(storedSequence: storedSequence), request: request, tenant: tenant,
            budget: Int(settings.limits.maxControlPayload))
    }
}
