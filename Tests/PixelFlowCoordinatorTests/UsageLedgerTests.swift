import NIOCore
import PixelFlowProtocol
import Testing

@testable import PixelFlowCoordinator

/// The usage ledger's bookkeeping: hourly buckets, numbered flushes that fail back into the next one, and pages
/// merging the store's buckets with what has not reached it.
@Suite struct UsageLedgerTests {
    static let hourMs: Int64 = 1_764_619_200_000

    @Test func countsLandInTheBucketOfTheirHourAndInTheTotals() {
        var ledger = UsageLedger()
        ledger.record("acme", atUnixMilliseconds: Self.hourMs + 10, UsageCounts(admitted: 1))
        ledger.record("acme", atUnixMilliseconds: Self.hourMs + 3_599_999, UsageCounts(admitted: 1, bytesIn: 5))
        ledger.record("acme", atUnixMilliseconds: Self.hourMs + 3_600_000, UsageCounts(succeeded: 1))
        #expect(ledger.pending.count == 2)
        #expect(ledger.pending[.init(hour: 1_764_619_200, tenant: "acme")] == UsageCounts(admitted: 2, bytesIn: 5))
        #expect(ledger.totals["acme"] == UsageCounts(admitted: 2, succeeded: 1, bytesIn: 5))
    }

    @Test func interleavedTenantsAndHoursSumExactlyWhereverTheyWereHeld() throws {
        var ledger = UsageLedger()
        let records: [(String, Int64, UsageCounts)] = [
            ("acme", 0, UsageCounts(admitted: 1)), ("acme", 5, UsageCounts(bytesIn: 7)),
            ("globex", 6, UsageCounts(admitted: 1)), ("acme", 7, UsageCounts(succeeded: 1)),
            ("acme", 3_600_000, UsageCounts(admitted: 1)), ("globex", 8, UsageCounts(failed: 1)),
        ]
        for (tenant, offset, counts) in records {
            ledger.record(tenant, atUnixMilliseconds: Self.hourMs + offset, counts)
        }
        let hour: UInt64 = 1_764_619_200
        #expect(
            ledger.pending == [
                .init(hour: hour, tenant: "acme"): UsageCounts(admitted: 1, succeeded: 1, bytesIn: 7),
                .init(hour: hour, tenant: "globex"): UsageCounts(admitted: 1, failed: 1),
                .init(hour: hour + 3600, tenant: "acme"): UsageCounts(admitted: 1),
            ])
        #expect(ledger.totals["acme"] == UsageCounts(admitted: 2, succeeded: 1, bytesIn: 7))
        #expect(ledger.unstored(storedSequence: 0) == ledger.pending)
        let flushTaken = ledger.takeFlush()
        let flush = try #require(flushTaken)
        #expect(flush.buckets.map(\.tenant) == ["acme", "globex", "acme"], "hour, then tenant")
        #expect(ledger.pending.isEmpty && ledger.takeFlush() == nil)
        ledger.record("globex", atUnixMilliseconds: Self.hourMs, UsageCounts(cancelled: 1))
        #expect(ledger.totals["globex"] == UsageCounts(admitted: 1, failed: 1, cancelled: 1), "in flight plus latest")
    }

    @Test func aFailedFlushIsWrittenWithTheNextOne() throws {
        var ledger = UsageLedger()
        ledger.restore(totals: ["acme": UsageCounts(admitted: 40)], lastSequence: 7)
        ledger.record("acme", atUnixMilliseconds: Self.hourMs, UsageCounts(admitted: 1))
        let firstTaken = ledger.takeFlush()
        let first = try #require(firstTaken)
        #expect(first.sequence == 8)
        #expect(ledger.takeFlush() == nil, "nothing new since")
        ledger.record("acme", atUnixMilliseconds: Self.hourMs, UsageCounts(admitted: 2))
        let secondTaken = ledger.takeFlush()
        let second = try #require(secondTaken)
        #expect(second.sequence == 9)
        ledger.flushEnded(committed: false)  // the first
        ledger.flushEnded(committed: true)  // the second
        let retriedTaken = ledger.takeFlush()
        let retried = try #require(retriedTaken)
        #expect(retried.buckets.map(\.counts.admitted) == [1])
        #expect(ledger.totals["acme"]?.admitted == 43)
    }

    @Test func aReaderAddsOnlyTheFlushesItsReadDidNotInclude() throws {
        var ledger = UsageLedger()
        ledger.record("acme", atUnixMilliseconds: Self.hourMs, UsageCounts(admitted: 1))
        #expect(ledger.takeFlush()?.sequence == 1)  // on its way
        ledger.record("acme", atUnixMilliseconds: Self.hourMs, UsageCounts(admitted: 2))
        let key = UsageLedger.Key(hour: 1_764_619_200, tenant: "acme")
        #expect(ledger.unstored(storedSequence: 0)[key]?.admitted == 3, "the store has not committed flush 1")
        #expect(ledger.unstored(storedSequence: 1)[key]?.admitted == 2, "the store's read included flush 1")
    }

    @Test func pagesMergeStoredAndUnstoredBucketsInOrderAndSayWhenMoreFollow() {
        let hour: UInt64 = 1_764_619_200
        let stored = [
            UsageReport.Bucket(tenant: "a", hour: hour, counts: UsageCounts(admitted: 5)),
            UsageReport.Bucket(tenant: "b", hour: hour, counts: UsageCounts(admitted: 1)),
        ]
        let unstored: [UsageLedger.Key: UsageCounts] = [
            .init(hour: hour, tenant: "a"): UsageCounts(admitted: 2),
            .init(hour: hour + 3600, tenant: "a"): UsageCounts(admitted: 1),
            .init(hour: hour - 3600, tenant: "a"): UsageCounts(admitted: 9),  // before `since`
        ]
        let all = UsageLedger.page(
            stored: stored, unstored: unstored, request: UsageRequest(since: hour + 10, limit: 10), tenant: nil,
            budget: 65_536)
        #expect(
            all.buckets.map { "\($0.tenant)@\($0.hour - hour)=\($0.counts.admitted)" } == [
                "a@0=7", "b@0=1", "a@3600=1",
            ])
        #expect(!all.more)
        let firstTwo = UsageLedger.page(
            stored: stored, unstored: unstored, request: UsageRequest(since: hour, limit: 2), tenant: nil,
            budget: 65_536)
        #expect(firstTwo.buckets.count == 2 && firstTwo.more)
        let next = UsageLedger.page(
            stored: [], unstored: unstored,
            request: UsageRequest(since: hour, afterHour: hour, afterTenant: "b", limit: 2), tenant: nil, budget: 65_536
        )
        #expect(next.buckets.map(\.hour) == [hour + 3600] && !next.more)
        let onlyB = UsageLedger.page(
            stored: [stored[1]], unstored: unstored, request: UsageRequest(since: hour, limit: 10), tenant: "b",
            budget: 65_536)
        #expect(onlyB.buckets.map(\.tenant) == ["b"])
        let tight = UsageLedger.page(
            stored: stored, unstored: unstored, request: UsageRequest(since: hour, limit: 10), tenant: nil,
            budget: 3 + stored[0].wireSize)
        #expect(tight.buckets.count == 1 && tight.more, "a page stops where the frame would overflow")
    }
}

/// Metering from the cluster state machine's own transitions.
@Suite struct UsageMeteringTests {
    @Test("each transition meters its tenant: admission, source bytes, delivered bytes, outcomes, every attempt's CPU")
    func transitionsAreMetered() throws {
        let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var settings = CoordinatorSettings()
        settings.maxAttempts = 3
        var state = ClusterState(
            settings: settings,
            tenants: [
                TenantPolicy(keyID: "acme", secret: [1], rate: 100, burst: 100, maxQueued: 100),
                TenantPolicy(keyID: "other", secret: [2], rate: 100, burst: 100, maxQueued: 100),
            ], now: now)
        let (worker, _) = state.registerWorker(name: "w", address: "a", slots: 1, formats: [], now: now)
        let submit = Submit(mode: .stream, idempotencyKey: "", sourceSize: 3, pipeline: ByteBuffer(string: "[]"))
        guard
            case .admitted(let id) = state.admit(
                tenant: "acme", submit: submit, variantCount: 1, subscriber: Subscriber(connection: 1, stream: 1),
                now: now)
        else { throw ProtocolError(.internal, "not admitted") }
        _ = state.sourceReceived(
            id, source: .chunks([Chunk(raw: ByteBuffer(bytes: [1, 2, 3]), isLast: true)]), now: now)
        // The first attempt times out on the worker: its CPU and pixels still count.
        _ = state.taskFailed(
            worker: worker, job: id, attempt: 1, code: .timeout, permanent: false, message: "slow",
            usage: TaskUsage(cpuMilliseconds: 700, sourcePixels: 6_000_000), now: now)
        _ = state.tick(now: now + .seconds(10))  // past the retry backoff: attempt 2 is dispatched
        let header = VariantHeader(
            jobID: id, attempt: 2, variantID: "v", format: "webp", width: 1, height: 1, size: 1234,
            elapsedMilliseconds: 1)
        #expect(
            state.variantFinished(header, worker: worker, now: now)
                == .deliver([Subscriber(connection: 1, stream: 1)]))
        _ = state.taskDone(
            worker: worker, job: id, attempt: 2, usage: TaskUsage(cpuMilliseconds: 300, sourcePixels: 6_000_000),
            now: now)
        #expect(
            state.usageTotals["acme"]
                == UsageCounts(
                    admitted: 1, succeeded: 1, sourcePixels: 12_000_000, bytesIn: 3, bytesOut: 1234,
                    cpuMilliseconds: 1000))
        #expect(state.usageTotals["other"] == nil)
    }
}
