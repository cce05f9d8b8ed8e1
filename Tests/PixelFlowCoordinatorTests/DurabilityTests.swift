import NIOCore
import PixelFlowProtocol
import PixelFlowStore
import Testing

@testable import PixelFlowCoordinator

/// The cluster state machine with durability on: which store writes each transition leaves behind, and that an
/// async job is queued, and acknowledged, only once its record has committed.
@Suite("Durable jobs in the cluster state machine")
struct DurabilityTests {
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    var state: ClusterState
    let submitter = Subscriber(connection: 1, stream: 1)
    let source = ByteBuffer(bytes: [1, 2, 3])

    init() {
        var settings = CoordinatorSettings()
        settings.maxAttempts = 2
        state = ClusterState(
            settings: settings,
            tenants: [TenantPolicy(keyID: "acme", secret: [1], rate: 100, burst: 100, maxQueued: 100)],
            now: now)
        let recovered = RecoveredState(
            nextJobID: 7, reservedThrough: 6 + ClusterState.jobIDBlock, liveJobs: [], recentlyFinished: [])
        _ = state.restore(from: recovered, now: now)
        _ = state.registerWorker(name: "w", address: "a", slots: 1, formats: [], now: now)
    }

    mutating func admitAsync() throws -> JobID {
        let submit = Submit(mode: .async, sourceSize: 3, pipeline: ByteBuffer(string: "[]"))
        guard
            case .admitted(let id) = state.admit(
                tenant: "acme", submit: submit, variantCount: 1, subscriber: nil, now: now)
        else { throw ProtocolError(.internal, "not admitted") }
        return id
    }

    mutating func receiveSource(_ id: JobID) -> [ClusterAction] {
        state.sourceReceived(
            id, source: .chunks([Chunk(raw: source, isLast: true)]), bytes: source, digest: SHA256Digest.of(source),
            submitter: submitter, now: now)
    }

    static func kinds(_ writes: [StoreWrite]) -> [String] {
        writes.map {
            switch $0 {
            case .admit: "admit"
            case .lease(_, let attempt, _, _): "lease \(attempt)"
            case .requeue: "requeue"
            case .variant: "variant"
            case .finish(_, let state, _, _, _, _, _): "finish \(state)"
            case .reserveJobIDs(let through): "reserve \(through)"
            case .enqueueWebhook: "webhook"
            case .usage(_, let sequence): "usage \(sequence)"
            case .createDraft: "create draft"
            case .attachDraftSource: "attach draft source"
            case .startDraft: "start draft"
            case .deleteDraft: "delete draft"
            case .deleteJob: "delete job"
            }
        }
    }

    @Test(
        "an async job is written, then queued and ACCEPTED only when the write commits; its lease precedes its ASSIGN")
    mutating func admittedAfterCommit() throws {
        let id = try admitAsync()
        #expect(id == 7, "ids carry on from the store's")
        #expect(receiveSource(id).isEmpty, "nothing is dispatched or acknowledged before the commit")
        #expect(Self.kinds(state.takeStoreWrites()) == ["admit"])
        let actions = state.persisted([id], now: now)
        guard case .accepted(id, let to) = actions.first else {
            Issue.record("not acknowledged first: \(actions)")
            return
        }
        #expect(to == submitter)
        #expect(assignments(actions).map(\.job) == [id])
        #expect(Self.kinds(state.takeStoreWrites()) == ["lease 1"])
        #expect(
            state.variantFinished(.test(job: id, attempt: 1, variantID: "v"), worker: 1, now: now)
                == .deliver([], isStored: true))
        _ = state.taskDone(worker: 1, job: id, attempt: 1, now: now)
        #expect(Self.kinds(state.takeStoreWrites()) == ["finish succeeded"])
    }

    @Test("a failed admission write: the submitter gets storage_error, nothing else is written, the key is free")
    mutating func admissionNotStored() throws {
        let id = try admitAsync()
        _ = receiveSource(id)
        _ = state.takeStoreWrites()
        let actions = state.persistFailed([id], reason: "disk full", now: now)
        guard case .refused(id, submitter, let error) = actions.first else {
            Issue.record("not refused: \(actions)")
            return
        }
        #expect(error.code == .storageError && error.retryAfterMilliseconds == 1000)
        #expect(state.takeStoreWrites().isEmpty, "a job never stored gets no outcome written")
        #expect(!state.isLive(id))
    }

    @Test("a job cancelled while its record is being written is ACCEPTED, and its end is written after it")
    mutating func cancelledWhilePersisting() throws {
        let id = try admitAsync()
        _ = receiveSource(id)
        _ = state.cancel(id, tenant: "acme", now: now)
        #expect(Self.kinds(state.takeStoreWrites()) == ["admit", "finish cancelled"])
        let actions = state.persisted([id], now: now)
        #expect(actions.contains { if case .accepted(id, _) = $0 { true } else { false } })
        #expect(assignments(actions).isEmpty)
    }

    @Test("a job waiting out its retry backoff when the coordinator stopped waits for the rest of it after a restart")
    mutating func retryTimerSurvives() throws {
        var restarted = ClusterState(
            settings: state.settings,
            tenants: [TenantPolicy(keyID: "acme", secret: [1], rate: 100, burst: 100, maxQueued: 100)], now: now)
        let wallNow = restarted.wallClock.unixMilliseconds(at: now)
        let job = StoredJob(
            id: 9, tenant: "acme", state: .queued, priority: 128, pipeline: ByteBuffer(string: "[]"), variantCount: 1,
            formats: [], sourceSHA256: SHA256Digest.of(source), sourceSize: 3, idempotencyKey: "", webhookURL: "",
            attempt: 1, retryAt: wallNow + 2_000, admittedAt: wallNow - 1_000)
        _ = restarted.restore(
            from: RecoveredState(
                nextJobID: 10, reservedThrough: 1 << 30,
                liveJobs: [RecoveredJob(job: job, source: .success(source), storedVariants: [])], recentlyFinished: []),
            now: now)
        let (_, early) = restarted.registerWorker(name: "w", address: "a", slots: 1, formats: [], now: now)
        #expect(assignments(early).isEmpty, "dispatched before its backoff was over")
        let later = restarted.tick(now: now + .milliseconds(2_100))
        #expect(assignments(later).map(\.job) == [9])
        #expect(assignments(later).first?.attempt == 2)
    }

    @Test("job ids: a new block is reserved once half of the current one is used, not on every job")
    mutating func idBlocks() throws {
        _ = state.restore(
            from: RecoveredState(nextJobID: 7, reservedThrough: 100, liveJobs: [], recentlyFinished: []), now: now)
        for _ in 0..<3 { _ = try admitAsync() }
        #expect(Self.kinds(state.takeStoreWrites()) == ["reserve \(8 + ClusterState.jobIDBlock)"])
    }

    @Test(
        "a restart requeues a job that was running (that attempt counts), keeps its delivered variants, and fails one that used its attempts"
    )
    mutating func restoreRunningJobs() throws {
        var restarted = ClusterState(
            settings: state.settings,
            tenants: [TenantPolicy(keyID: "acme", secret: [1], rate: 100, burst: 100, maxQueued: 100)], now: now)
        func stored(_ id: UInt64, attempt: UInt16) -> StoredJob {
            StoredJob(
                id: id, tenant: "acme", state: .running, priority: 128, pipeline: ByteBuffer(string: "[]"),
                variantCount: 2,
                formats: [], sourceSHA256: SHA256Digest.of(source), sourceSize: 3, idempotencyKey: "k\(id)",
                webhookURL: "",
                attempt: attempt, admittedAt: 0)
        }
        let recovered = RecoveredState(
            nextJobID: 50, reservedThrough: 60,
            liveJobs: [
                RecoveredJob(
                    job: stored(3, attempt: 1), source: .success(source),
                    storedVariants: [
                        StoredVariant(
                            VariantHeader(
                                jobID: 3, attempt: 1, variantID: "a", format: "webp", width: 1, height: 1, size: 1,
                                elapsedMilliseconds: 1), sha256: [])
                    ]),
                RecoveredJob(job: stored(4, attempt: 2), source: .success(source), storedVariants: []),
                RecoveredJob(
                    job: stored(5, attempt: 0), source: .failure(StoreError(.io, "blob missing")), storedVariants: []),
            ], recentlyFinished: [])
        _ = restarted.restore(from: recovered, now: now)
        #expect(Self.kinds(restarted.takeStoreWrites()) == ["requeue", "finish failed", "finish failed"])
        #expect(restarted.status(of: 4, tenant: "acme")?.code == .retriesExhausted)
        #expect(restarted.status(of: 5, tenant: "acme")?.code == .storageError)
        let (_, actions) = restarted.registerWorker(name: "w", address: "a", slots: 1, formats: [], now: now)
        #expect(
            assignments(actions).map { "\($0.job)/\($0.attempt)" } == ["3/2"],
            "the next attempt is above the stored one")
        guard
            case .discard(let reason) = restarted.variantFinished(
                .test(job: 3, attempt: 2, variantID: "a"), worker: 1, now: now)
        else {
            Issue.record("a variant stored before the restart was delivered again")
            return
        }
        #expect(reason.contains("already delivered"), "\(reason)")
        // Its idempotency key still names it.
        let again = Submit(mode: .async, idempotencyKey: "k3", sourceSize: 3, pipeline: ByteBuffer(string: "[]"))
        #expect(
            restarted.admit(tenant: "acme", submit: again, variantCount: 2, subscriber: nil, now: now)
                == .duplicate(3, sourceDigest: SHA256Digest.of(source)))
    }
}
