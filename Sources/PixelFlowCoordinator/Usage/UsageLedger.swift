import PixelFlowProtocol

/// Metered usage per tenant in hourly buckets (pure; part of `ClusterState`). Counts are recorded as things
/// happen, written to the store in one batch per flush interval, and added to what the store holds when read.
struct UsageLedger: Sendable {
    struct Key: Hashable, Sendable, Comparable {
        var hour: UInt64
        var tenant: String

        /// Hour, then tenant compared bytewise (as the store orders them, and the protocol's paging expects).
        static func < (lhs: Key, rhs: Key) -> Bool {
            lhs.hour != rhs.hour ? lhs.hour < rhs.hour : lhs.tenant.utf8.lexicographicallyPrecedes(rhs.tenant.utf8)
        }
    }

    /// A batch on its way to the store, numbered: the store keeps the number of the last batch it committed, so
    /// a reader adds this batch to what it read exactly when the read did not include it.
    struct Flush: Sendable {
        var sequence: UInt64
        var buckets: [UsageReport.Bucket]
    }

    static let secondsPerHour: UInt64 = 3600

    /// Recorded since the last flush: `recorded`, plus `latest` when set.
    var pending: [Key: UsageCounts] {
        var pending = recorded
        if let latest { pending[latest.key, default: UsageCounts()].add(latest.counts) }
        return pending
    }
    private var recorded: [Key: UsageCounts] = [:]
    /// The bucket recorded into last, kept apart until another is: a run of records for one tenant and hour (the
    /// common case, several per job) then costs a string comparison each instead of a hashed lookup.
    private var latest: (key: Key, counts: UsageCounts)?
    /// Taken by flushes whose commit has not been confirmed, oldest first (the store commits them in order).
    private(set) var inFlight: [Flush] = []
    /// What the store held at start, per tenant; `totals` adds what was recorded since.
    private var restoredTotals: [String: UsageCounts] = [:]
    /// Recorded and written to the store since start (pending and in-flight counts are added when asked).
    private var flushedTotals: [String: UsageCounts] = [:]
    private(set) var lastSequence: UInt64 = 0

    static func hour(ofUnixMilliseconds milliseconds: Int64) -> UInt64 {
        let seconds = UInt64(max(0, milliseconds / 1000))
        return seconds - seconds % secondsPerHour
    }

    mutating func record(_ tenant: String, atUnixMilliseconds milliseconds: Int64, _ counts: UsageCounts) {
        let key = Key(hour: Self.hour(ofUnixMilliseconds: milliseconds), tenant: tenant)
        if latest?.key == key {
            latest?.counts.add(counts)
            return
        }
        settleLatest()
        latest = (key, counts)
    }

    private mutating func settleLatest() {
        guard let latest else { return }
        recorded[latest.key, default: UsageCounts()].add(latest.counts)
        self.latest = nil
    }

    /// Every tenant's usage since the store began: the store's sums at start, plus everything recorded since.
    /// Summed when asked (a /metrics scrape), so recording stays one dictionary update.
    var totals: [String: UsageCounts] {
        var totals = restoredTotals
        for (tenant, counts) in flushedTotals { totals[tenant, default: UsageCounts()].add(counts) }
        for flush in inFlight {
            for bucket in flush.buckets { totals[bucket.tenant, default: UsageCounts()].add(bucket.counts) }
        }
        for (key, counts) in recorded { totals[key.tenant, default: UsageCounts()].add(counts) }
        if let latest { totals[latest.key.tenant, default: UsageCounts()].add(latest.counts) }
        return totals
    }

    /// Resumes from the store: its totals per tenant, and the number of the last batch it committed.
    mutating func restore(totals stored: [String: UsageCounts], lastSequence sequence: UInt64) {
        for (tenant, counts) in stored { restoredTotals[tenant, default: UsageCounts()].add(counts) }
        lastSequence = max(lastSequence, sequence)
    }

    /// What to write now, or nil when nothing was recorded since the last flush.
    mutating func takeFlush() -> Flush? {
        settleLatest()
        guard !recorded.isEmpty else { return nil }
        lastSequence += 1
        let flush = Flush(
            sequence: lastSequence,
            buckets: recorded.sorted { $0.key < $1.key }.map {
                UsageReport.Bucket(tenant: $0.key.tenant, hour: $0.key.hour, counts: $0.value)
            })
        recorded = [:]
        inFlight.append(flush)
        return flush
    }

    /// The oldest batch on its way committed (true) or failed (false: its counts wait for the next flush).
    mutating func flushEnded(committed: Bool) {
        guard !inFlight.isEmpty else { return }
        let flush = inFlight.removeFirst()
        guard !committed else {
            for bucket in flush.buckets { flushedTotals[bucket.tenant, default: UsageCounts()].add(bucket.counts) }
            return
        }
        for bucket in flush.buckets {
            recorded[Key(hour: bucket.hour, tenant: bucket.tenant), default: UsageCounts()].add(bucket.counts)
        }
    }

    /// Drops buckets of hours before `hour` (the retention window, for a coordinator without a store); their
    /// counts stay in the totals.
    mutating func forget(before hour: UInt64) {
        settleLatest()
        for (key, counts) in recorded where key.hour < hour {
            flushedTotals[key.tenant, default: UsageCounts()].add(counts)
            recorded[key] = nil
        }
    }

    /// What has not reached the store as of a read that saw batches up to `storedSequence`.
    func unstored(storedSequence: UInt64) -> [Key: UsageCounts] {
        var result = pending
        for flush in inFlight where flush.sequence > storedSequence {
            for bucket in flush.buckets {
                result[Key(hour: bucket.hour, tenant: bucket.tenant), default: UsageCounts()].add(bucket.counts)
            }
        }
        return result
    }
}

extension UsageLedger {
    /// One USAGE page: `stored` (read from the store, at most `limit + 1` buckets of the request's range, in order)
    /// merged with `unstored`, cut to `limit` buckets and to what fits `budget` payload bytes.
    static func page(
        stored: [UsageReport.Bucket], unstored: [Key: UsageCounts], request: UsageRequest, tenant: String?,
        budget: Int
    ) -> UsageReport {
        let since = request.since - request.since % secondsPerHour
        let after = Key(hour: request.afterHour, tenant: request.afterTenant)
        let isFirstPage = request.afterHour == 0 && request.afterTenant.isEmpty
        var merged: [Key: UsageCounts] = [:]
        for bucket in stored { merged[Key(hour: bucket.hour, tenant: bucket.tenant)] = bucket.counts }
        for (key, counts) in unstored
        where key.hour >= since && (isFirstPage || after < key) && (tenant == nil || key.tenant == tenant) {
            merged[key, default: UsageCounts()].add(counts)
        }
        let ordered = merged.sorted { $0.key < $1.key }
        var report = UsageReport(buckets: [])
        var size = 3  // more, count
        for (index, entry) in ordered.enumerated() {
            let bucket = UsageReport.Bucket(tenant: entry.key.tenant, hour: entry.key.hour, counts: entry.value)
            guard index < Int(request.limit), size + bucket.wireSize <= budget else {
                report.more = true
                break
            }
            size += bucket.wireSize
            report.buckets.append(bucket)
        }
        return report
    }
}
