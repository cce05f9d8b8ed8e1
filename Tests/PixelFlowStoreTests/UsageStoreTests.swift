import Foundation
import PixelFlowProtocol
import Testing

@testable import PixelFlowStore

/// Hourly usage buckets in the SQLite store: batches add up, pages come in (hour, tenant) order, totals and the
/// last batch number survive a reopen, old hours are deleted.
@Suite struct UsageStoreTests {
    let directory = TemporaryDirectory()
    static let hour: UInt64 = 1_764_619_200  // a multiple of 3600

    static func bucket(_ tenant: String, hour: UInt64, admitted: UInt64, cpu: UInt64 = 0) -> UsageReport.Bucket {
        UsageReport.Bucket(
            tenant: tenant, hour: hour,
            counts: UsageCounts(admitted: admitted, sourcePixels: admitted * 1_000, cpuMilliseconds: cpu))
    }

    @Test func batchesAddUpPerTenantAndHourAndSurviveAReopen() async throws {
        do {
            let (store, recovered) = try SQLiteJobStore.open(directory: directory.path)
            #expect(recovered.usageSequence == 0)
            #expect(recovered.usageTotals.isEmpty)
            try await store.commit([
                .usage([Self.bucket("acme", hour: Self.hour, admitted: 2, cpu: 10)], sequence: 1)
            ])
            try await store.commit([
                .usage(
                    [
                        Self.bucket("acme", hour: Self.hour, admitted: 3, cpu: 5),
                        Self.bucket("zeta", hour: Self.hour, admitted: 1),
                        Self.bucket("acme", hour: Self.hour + 3600, admitted: 4),
                    ], sequence: 2)
            ])
            let (buckets, sequence) = try await store.usage(tenant: nil, since: 0, after: nil, limit: 10)
            #expect(sequence == 2)
            #expect(
                buckets.map { "\($0.hour - Self.hour) \($0.tenant) \($0.counts.admitted) \($0.counts.cpuMilliseconds)" }
                    == ["0 acme 5 15", "0 zeta 1 0", "3600 acme 4 0"])
            #expect(buckets[0].counts.sourcePixels == 5_000)
        }
        let (_, reopened) = try SQLiteJobStore.open(directory: directory.path)
        #expect(reopened.usageSequence == 2)
        #expect(reopened.usageTotals["acme"]?.admitted == 9)
        #expect(reopened.usageTotals["acme"]?.cpuMilliseconds == 15)
        #expect(reopened.usageTotals["zeta"]?.admitted == 1)
    }

    @Test func pagesFollowHourThenTenantAndRespectSinceAndTenant() async throws {
        let (store, _) = try SQLiteJobStore.open(directory: directory.path)
        var buckets: [UsageReport.Bucket] = []
        for offset in 0..<3 {
            for tenant in ["a", "b"] {
                buckets.append(Self.bucket(tenant, hour: Self.hour + UInt64(offset) * 3600, admitted: 1))
            }
        }
        try await store.commit([.usage(buckets, sequence: 1)])
        let first = try await store.usage(tenant: nil, since: 0, after: nil, limit: 4).buckets
        #expect(first.map(\.tenant) == ["a", "b", "a", "b"])
        let rest = try await store.usage(
            tenant: nil, since: 0, after: UsageCursor(hour: first[3].hour, tenant: first[3].tenant), limit: 4
        ).buckets
        #expect(rest.map(\.tenant) == ["a", "b"])
        #expect(rest.allSatisfy { $0.hour == Self.hour + 7200 })
        // `since` inside an hour includes that hour.
        let late = try await store.usage(tenant: "b", since: Self.hour + 3600 + 59, after: nil, limit: 10).buckets
        #expect(late.map(\.hour) == [Self.hour + 3600, Self.hour + 7200])
        #expect(late.allSatisfy { $0.tenant == "b" })
    }

    @Test func oldHoursAreDeleted() async throws {
        let (store, _) = try SQLiteJobStore.open(directory: directory.path)
        try await store.commit([
            .usage(
                [
                    Self.bucket("a", hour: Self.hour, admitted: 1),
                    Self.bucket("a", hour: Self.hour + 3600, admitted: 1),
                ],
                sequence: 1)
        ])
        #expect(try await store.deleteUsage(before: Self.hour + 1) == 1)
        let left = try await store.usage(tenant: nil, since: 0, after: nil, limit: 10).buckets
        #expect(left.map(\.hour) == [Self.hour + 3600])
    }
}
