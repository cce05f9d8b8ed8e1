import NIOCore
import PixelFlowProtocol
import Testing

@testable import PixelFlowCoordinator

/// The scheduler, leases and fencing, driven by a hand-moved clock.
@Suite("Cluster state machine")
struct ClusterStateTests {
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    var state: ClusterState
    let client = Subscriber(connection: 1, stream: 1)

    init() {
        var settings = CoordinatorSettings()
        settings.lease = .seconds(10)
        settings.maxAttempts = 3
        state = ClusterState(
            settings: settings,
            tenants: [
                TenantPolicy(keyID: "acme", secret: [1], rate: 5, burst: 10, maxQueued: 100),
                TenantPolicy(keyID: "other", secret: [2], rate: 5, burst: 10, maxQueued: 100),
            ], now: now)
    }

    func submit(_ mode: Submit.Mode = .stream, key: String = "") -> Submit {
        Submit(mode: mode, idempotencyKey: key, sourceSize: 3, pipeline: ByteBuffer(string: "[]"))
    }

    mutating func admitAndQueue(
        tenant: String = "acme", subscriber: Subscriber? = nil
    ) throws -> (JobID, [ClusterAction]) {
        guard
            case .admitted(let id) = state.admit(
                tenant: tenant, submit: submit(), variantCount: 2, subscriber: subscriber ?? client, now: now)
        else {
            throw ProtocolError(.internal, "not admitted")
        }
        return (
            id,
            state.sourceReceived(
                id, source: .chunks([Chunk(raw: ByteBuffer(bytes: [1, 2, 3]), isLast: true)]), now: now)
        )
    }

    static func notifications(_ actions: [ClusterAction]) -> [Message] {
        actions.compactMap {
            if case .finished(_, _, let subscribers, let message) = $0, !subscribers.isEmpty { return message }
            return nil
        }
    }

    @Test(
        "50 jobs at once from a 5/s, burst-10 tenant: 10 admitted, 40 rejected with retry_after 200 ms; another tenant unaffected"
    )
    mutating func rateLimit() {
        var admitted = 0
        var retryAfters: Set<UInt32> = []
        for _ in 0..<50 {
            switch state.admit(tenant: "acme", submit: submit(), variantCount: 1, subscriber: client, now: now) {
            case .admitted: admitted += 1
            case .rejected(let error):
                #expect(error.code == .rateLimited)
                retryAfters.insert(error.retryAfterMilliseconds ?? 0)
            case .duplicate: Issue.record("no idempotency key was given")
            }
        }
        #expect(admitted == 10)
        #expect(retryAfters == [200])
        guard
            case .admitted = state.admit(
                tenant: "other", submit: submit(), variantCount: 1, subscriber: client, now: now)
        else {
            Issue.record("the other tenant was limited too")
            return
        }
        #expect(state.stats.tenants.first { $0.name == "acme" }?.counters.rejected == 40)
    }

    @Test("a worker never holds more tasks than its slots")
    mutating func credits() throws {
        let (worker, _) = state.registerWorker(name: "w1", address: "a", slots: 2, formats: [], now: now)
        var assigned: [ClusterAction] = []
        for _ in 0..<5 { assigned += try admitAndQueue().1 }
        #expect(assignments(assigned).count == 2)
        #expect(state.stats.total.queued == 3 && state.stats.total.running == 2)
        let first = assignments(assigned)[0]
        _ = state.variantFinished(.test(job: first.job, attempt: 1, variantID: "a"), worker: worker, now: now)
        _ = state.variantFinished(.test(job: first.job, attempt: 1, variantID: "b"), worker: worker, now: now)
        let next = state.taskDone(worker: worker, job: first.job, attempt: 1, now: now)
        #expect(assignments(next).count == 1, "a finished task returns exactly one credit")
        #expect(Self.notifications(next).count == 1)
    }

    @Test("a worker that disconnects has its tasks requeued at once, with the next attempt")
    mutating func workerLoss() throws {
        let (first, _) = state.registerWorker(name: "w1", address: "a", slots: 1, formats: [], now: now)
        let (job, actions) = try admitAndQueue()
        #expect(assignments(actions).first?.worker == first)
        let (second, _) = state.registerWorker(name: "w2", address: "b", slots: 1, formats: [], now: now)
        let requeued = state.workerLost(first, now: now)
        let retry = try #require(assignments(requeued).first)
        #expect(retry.worker == second && retry.job == job && retry.attempt == 2)
    }

    @Test("results of a stale attempt are discarded (fencing); each variant is delivered once")
    mutating func fencing() throws {
        let (first, _) = state.registerWorker(name: "w1", address: "a", slots: 1, formats: [], now: now)
        let (job, _) = try admitAndQueue()
        #expect(
            state.variantFinished(.test(job: job, attempt: 1, variantID: "a"), worker: first, now: now)
                == .deliver([client]))
        let (second, _) = state.registerWorker(name: "w2", address: "b", slots: 1, formats: [], now: now)
        _ = state.workerLost(first, now: now)
        // The old attempt's late results change nothing.
        #expect(
            state.variantFinished(.test(job: job, attempt: 1, variantID: "b"), worker: first, now: now)
                != .deliver([client]))
        #expect(state.taskDone(worker: first, job: job, attempt: 1, now: now).isEmpty)
        // The new attempt re-encodes "a": not delivered twice. "b" is new.
        guard
            case .discard = state.variantFinished(.test(job: job, attempt: 2, variantID: "a"), worker: second, now: now)
        else {
            Issue.record("variant a delivered twice")
            return
        }
        #expect(
            state.variantFinished(.test(job: job, attempt: 2, variantID: "b"), worker: second, now: now)
                == .deliver([client]))
        let done = Self.notifications(state.taskDone(worker: second, job: job, attempt: 2, now: now))
        #expect(done == [.jobDone(JobDone(jobID: job, variants: 2, attempts: 2, elapsedMilliseconds: 0))])
        #expect(state.discardedResults == 3)
    }

    @Test("a silent worker's lease expires: the job is requeued and the old attempt cancelled; heartbeats prevent it")
    mutating func leaseExpiry() throws {
        let (first, _) = state.registerWorker(name: "w1", address: "a", slots: 1, formats: [], now: now)
        let (job, _) = try admitAndQueue()
        now = now + .seconds(6)
        _ = state.heartbeat(worker: first, tasks: [.init(taskID: job, attempt: 1)], now: now)
        now = now + .seconds(6)
        #expect(state.tick(now: now).isEmpty, "the heartbeat renewed the lease")
        now = now + .seconds(11)
        let (second, _) = state.registerWorker(name: "w2", address: "b", slots: 1, formats: [], now: now)
        let actions = state.tick(now: now)
        #expect(actions.contains { if case .cancelTask(first, job, 1) = $0 { true } else { false } })
        #expect(assignments(actions).map(\.worker) == [second])
        // The given-up attempt still occupies w1's slot until w1 says it let go.
        #expect(state.workerList(now: now).first { $0.name == "w1" }?.busy == 1)
        _ = state.heartbeat(worker: first, tasks: [], now: now)
        #expect(state.workerList(now: now).first { $0.name == "w1" }?.busy == 0)
    }

    @Test("transient failures retry with backoff up to the limit; permanent ones fail at once")
    mutating func retries() throws {
        let (worker, _) = state.registerWorker(name: "w1", address: "a", slots: 1, formats: [], now: now)
        let (job, _) = try admitAndQueue()
        #expect(
            state.taskFailed(
                worker: worker, job: job, attempt: 1, code: .timeout, permanent: false, message: "slow", now: now
            ).isEmpty)
        #expect(assignments(state.tick(now: now + .milliseconds(199))).isEmpty, "backoff 200 ms not over")
        now = now + .milliseconds(200)
        #expect(assignments(state.tick(now: now)).first?.attempt == 2)
        _ = state.taskFailed(
            worker: worker, job: job, attempt: 2, code: .timeout, permanent: false, message: "slow", now: now)
        now = now + .milliseconds(400)
        #expect(assignments(state.tick(now: now)).first?.attempt == 3)
        let last = Self.notifications(
            state.taskFailed(
                worker: worker, job: job, attempt: 3, code: .timeout, permanent: false, message: "slow", now: now))
        guard case .jobFailed(let failed) = last.first else {
            Issue.record("no failure after 3 attempts")
            return
        }
        #expect(failed.code == .retriesExhausted && failed.attempts == 3)

        let (other, _) = try admitAndQueue()
        _ = state.tick(now: now)
        let permanent = Self.notifications(
            state.taskFailed(
                worker: worker, job: other, attempt: 1, code: .undecodableImage, permanent: false,
                message: "not an image", now: now))
        #expect(
            permanent == [
                .jobFailed(JobFailed(jobID: other, code: .undecodableImage, attempts: 1, message: "not an image"))
            ])
    }

    @Test("queue caps reject with queue_full before spending a token")
    mutating func queueCaps() {
        var settings = CoordinatorSettings()
        settings.maxQueuedJobs = 3
        state = ClusterState(
            settings: settings, tenants: [TenantPolicy(keyID: "acme", secret: [1], rate: 1, burst: 100, maxQueued: 2)],
            now: now)
        var codes: [ErrorCode] = []
        for _ in 0..<4 {
            if case .rejected(let error) = state.admit(
                tenant: "acme", submit: submit(), variantCount: 1, subscriber: client, now: now)
            {
                codes.append(error.code)
            }
        }
        #expect(codes == [.queueFull, .queueFull])
        let huge = Submit(sourceSize: UInt64.max, pipeline: ByteBuffer())
        guard
            case .rejected(let error) = state.admit(
                tenant: "acme", submit: huge, variantCount: 1, subscriber: client, now: now)
        else {
            Issue.record("oversize source admitted")
            return
        }
        #expect(error.code == .sourceTooLarge || error.code == .queueFull)
    }

    @Test("an idempotency key returns the first job once its source is in; cancel, watch and status follow the job")
    mutating func idempotencyCancelWatch() throws {
        guard
            case .admitted(let job) = state.admit(
                tenant: "acme", submit: submit(.async, key: "k1"), variantCount: 1, subscriber: nil, now: now)
        else {
            Issue.record("not admitted")
            return
        }
        guard
            case .rejected(let uploading) = state.admit(
                tenant: "acme", submit: submit(.async, key: "k1"), variantCount: 1, subscriber: nil, now: now)
        else {
            Issue.record("a resubmission was answered while the first source was still arriving")
            return
        }
        #expect(uploading.code == .unavailable && uploading.retryAfterMilliseconds != nil)
        _ = state.sourceReceived(job, source: .chunks([]), digest: [1, 2, 3], now: now)
        #expect(
            state.admit(tenant: "acme", submit: submit(.async, key: "k1"), variantCount: 1, subscriber: nil, now: now)
                == .duplicate(job, sourceDigest: [1, 2, 3]))
        #expect(state.status(of: job, tenant: "acme")?.state == .queued)
        #expect(state.status(of: job, tenant: "other") == nil, "another tenant cannot see the job")
        let watcher = Subscriber(connection: 9, stream: 5)
        guard case .subscribed = state.watch(job, tenant: "acme", subscriber: watcher) else {
            Issue.record("watch failed")
            return
        }
        let (status, actions) = state.cancel(job, tenant: "acme", now: now)
        #expect(status?.state == .cancelled)
        guard case .finished(_, _, let subscribers, .jobFailed(let failure)) = actions.first else {
            Issue.record("watcher not notified")
            return
        }
        #expect(subscribers == [watcher] && failure.code == .cancelled)
        guard case .ended(.jobFailed) = state.watch(job, tenant: "acme", subscriber: watcher) else {
            Issue.record("a finished job must answer WATCH at once")
            return
        }
    }

    @Test("a stream-mode job whose client leaves is cancelled; an async one keeps running")
    mutating func clientLoss() throws {
        let (worker, _) = state.registerWorker(name: "w1", address: "a", slots: 2, formats: [], now: now)
        let (streamJob, _) = try admitAndQueue()
        guard
            case .admitted(let asyncJob) = state.admit(
                tenant: "acme", submit: submit(.async), variantCount: 1, subscriber: client, now: now)
        else {
            Issue.record("not admitted")
            return
        }
        _ = state.sourceReceived(asyncJob, source: .chunks([]), now: now)
        let actions = state.clientLost(connection: client.connection, now: now)
        #expect(actions.contains { if case .cancelTask(worker, streamJob, 1) = $0 { true } else { false } })
        #expect(state.status(of: streamJob, tenant: "acme")?.state == .cancelled)
        #expect(state.status(of: asyncJob, tenant: "acme")?.state == .running)
    }

    @Test("a job whose workers keep dying fails with retries_exhausted instead of cycling forever")
    mutating func workersKeepDying() throws {
        var (worker, _) = state.registerWorker(name: "w1", address: "a", slots: 1, formats: [], now: now)
        let (job, _) = try admitAndQueue()
        var outcome: [Message] = []
        for _ in 0..<5 where outcome.isEmpty {
            outcome = Self.notifications(state.workerLost(worker, now: now))
            (worker, _) = state.registerWorker(name: "w", address: "a", slots: 1, formats: [], now: now)
        }
        guard case .jobFailed(let failed) = outcome.first else {
            Issue.record("the job never failed")
            return
        }
        #expect(failed.jobID == job && failed.code == .retriesExhausted && failed.attempts == 3)
    }

    @Test("an abandoned upload fails its job, tells watchers, and frees its idempotency key")
    mutating func abandonedUpload() throws {
        guard
            case .admitted(let job) = state.admit(
                tenant: "acme", submit: submit(.async, key: "k9"), variantCount: 1, subscriber: nil, now: now)
        else {
            Issue.record("not admitted")
            return
        }
        let watcher = Subscriber(connection: 7, stream: 3)
        guard case .subscribed = state.watch(job, tenant: "acme", subscriber: watcher) else {
            Issue.record("watch failed")
            return
        }
        let actions = state.abandon(job, reason: "the client left", now: now)
        guard case .finished(_, _, let subscribers, .jobFailed(let failure)) = actions.first else {
            Issue.record("the watcher was not told")
            return
        }
        #expect(subscribers == [watcher] && failure.code == .cancelled)
        #expect(state.stats.total.queued == 0)
        guard
            case .admitted(let again) = state.admit(
                tenant: "acme", submit: submit(.async, key: "k9"), variantCount: 1, subscriber: nil, now: now)
        else {
            Issue.record("the key still pointed at the abandoned job")
            return
        }
        #expect(again != job)
    }

    @Test("after a lease expires, the same worker's slot stays taken by the old attempt until it lets go")
    mutating func reassignedToSameWorker() throws {
        let (worker, _) = state.registerWorker(name: "w1", address: "a", slots: 1, formats: [], now: now)
        let (job, _) = try admitAndQueue()
        now = now + .seconds(11)
        let expired = state.tick(now: now)
        #expect(assignments(expired).isEmpty, "the only slot is still held by attempt 1")
        #expect(state.workerList(now: now).first?.busy == 1)
        let released = state.taskFailed(
            worker: worker, job: job, attempt: 1, code: .cancelled, permanent: true, message: "cancelled", now: now)
        #expect(assignments(released).map(\.attempt) == [2], "attempt 2 runs once attempt 1 is gone")
    }
}
