import Foundation
import PixelFlowProtocol

/// One tenant's metered usage in one hour (UTC), from ``PixelFlowClient/usage(since:)``.
public struct UsageBucket: Sendable, Hashable {
    public var tenant: String
    /// The start of the hour.
    public var hour: Date
    public var admitted: UInt64
    public var succeeded: UInt64
    public var failed: UInt64
    public var cancelled: UInt64
    /// Width × height of every source a worker decoded (each attempt counts).
    public var sourcePixels: UInt64
    /// Source bytes received.
    public var bytesIn: UInt64
    /// Variant bytes produced.
    public var bytesOut: UInt64
    /// Worker CPU time spent on this tenant's tasks, in milliseconds (each attempt counts).
    public var cpuMilliseconds: UInt64

    public var sourceMegapixels: Double { Double(sourcePixels) / 1_000_000 }

    /// Adds another bucket's counts (saturating, as the coordinator sums them); tenant and hour stay.
    public mutating func add(_ other: UsageBucket) {
        var sum = counts
        sum.add(other.counts)
        (admitted, succeeded, failed, cancelled) = (sum.admitted, sum.succeeded, sum.failed, sum.cancelled)
        (sourcePixels, bytesIn, bytesOut, cpuMilliseconds) = (
            sum.sourcePixels, sum.bytesIn, sum.bytesOut, sum.cpuMilliseconds
        )
    }

    private var counts: UsageCounts {
        UsageCounts(
            admitted: admitted, succeeded: succeeded, failed: failed, cancelled: cancelled, sourcePixels: sourcePixels,
            bytesIn: bytesIn, bytesOut: bytesOut, cpuMilliseconds: cpuMilliseconds)
    }

    init(wire bucket: UsageReport.Bucket) {
        tenant = bucket.tenant
        hour = Date(timeIntervalSince1970: Double(bucket.hour))
        admitted = bucket.counts.admitted
        succeeded = bucket.counts.succeeded
        failed = bucket.counts.failed
        cancelled = bucket.counts.cancelled
        sourcePixels = bucket.counts.sourcePixels
        bytesIn = bucket.counts.bytesIn
        bytesOut = bucket.counts.bytesOut
        cpuMilliseconds = bucket.counts.cpuMilliseconds
    }
}

extension PixelFlowClient {
    /// Metered usage from the hour holding `since` on, one bucket per tenant and hour, oldest first: this key's
    /// tenant, or every tenant for an operator key. Includes what the coordinator has not yet written to its store.
    ///
    /// - Throws: ``PixelFlowClientError``: ``PixelFlowClientError/Code/storageError`` when the store cannot be
    ///   read, ``PixelFlowClientError/Code/protocolViolation`` from a coordinator older than protocol v2.
    public func usage(since: Date) async throws(PixelFlowClientError) -> [UsageBucket] {
        var request = UsageRequest(since: UInt64(max(0, since.timeIntervalSince1970)))
        var buckets: [UsageBucket] = []
        while true {
            let page = try await usagePage(request)
            buckets += page.buckets.map(UsageBucket.init(wire:))
            guard page.more, let last = page.buckets.last else { return buckets }
            request.afterHour = last.hour
            request.afterTenant = last.tenant
        }
    }

    private func usagePage(_ request: UsageRequest) async throws(PixelFlowClientError) -> UsageReport {
        try await retrying { connection throws(PixelFlowClientError) in
            try PixelFlowClient.requireVersion2(connection, for: "meters no usage")
            switch try await connection.request(.usage, .usageRequest(request)) {
            case .usage(let report):
                return report
            case .accepted, .variant, .jobDone, .status, .workers, .stats, .jobList:
                throw PixelFlowClient.unexpectedAnswer(to: .usage)
            }
        }
    }
}
