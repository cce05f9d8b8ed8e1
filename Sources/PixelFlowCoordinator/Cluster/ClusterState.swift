import NIOCore
import PixelFlowProtocol
import PixelFlowStore

/// The coordinator's whole scheduling state as one pure state machine: admission (token buckets, queue caps),
/// fair dispatch onto workers' free slots, leases and fencing, retries, and job outcomes. Every method takes
/// the time as an argument and returns actions; the server runs them outside its lock.
public struct ClusterState: Sendable {
    public let settings: CoordinatorSettings
    var tenants: [String: TenantState] = [:]
    var jobs: [JobID: JobRecord] = [:]
    /// Queued job ids. Ended jobs are not removed from it: dispatch skips ids that are no longer queued.
    var queue = FairQueue<JobID>()
    /// When leases expire, retry backoffs end and queued jobs pass their deadline: checked on every tick.
    var leaseExpiries = Timeline()
    var retries = Timeline()
    var deadlines = Timeline()
    var workers: [WorkerID: WorkerRecord] = [:]
    var finished: any FinishedJobStore
    var heldSourceBytes: UInt64 = 0
    /// Client connections over their outbound byte budget; jobs whose every subscriber is on one of them are
    /// parked there instead of dispatched, until the connection drains or closes.
    var congestedConnections: Set<UInt64> = []
    var parked: [UInt64: [JobID]] = [:]
    /// Set by a graceful shutdown: running and queued jobs finish, new ones are refused.
    public internal(set) var isStopping = false
    var nextJobID: JobID = 1
    var nextWorkerID: WorkerID = 1
    var totals = Stats.Counters()
    /// Results dropped by fencing (old attempts) or because an earlier attempt delivered them.
    public internal(set) var discardedResults: UInt64 = 0

    // Durability (ClusterState+Durability.swift): set by `restore(from:now:)` on a coordinator with a job store.
    /// Async jobs are stored, each step written before it is told.
    public internal(set) var isDurable = false
    /// Writes the transitions left behind, taken by the coordinator after each step.
    var storeWrites: [StoreWrite] = []
    /// Stored jobs whose submitter waits for ACCEPTED until their admission commits.
    var submitters: [JobID: Subscriber] = [:]
    /// Job ids up to here are reserved in the store.
    var reservedThrough: UInt64 = .max
    var wallClock: WallClock
    /// Why the store cannot take writes now: async jobs are refused with `storage_error` meanwhile.
    public internal(set) var storeProblem: String?
    /// Webhook event ids: this prefix (naming the store), then the job id.
    var webhookEventPrefix = "evt_0"
    /// Metered usage per tenant and hour (ClusterState+Usage.swift).
    var usage = UsageLedger()

    public init(
        settings: CoordinatorSettings, tenants: [TenantPolicy], now: NIODeadline,
        finished: (any FinishedJobStore)? = nil
    ) {
        self.settings = settings
        self.wallClock = .system(now: now)
        self.finished = finished ?? InMemoryFinishedJobs(capacity: settings.maxFinishedJobs)
        for policy in tenants {
            self.tenants[policy.keyID] = TenantState(policy: policy, now: now, rememberedKeys: settings.maxFinishedJobs)
        }
    }

    // MARK: Admission

    public enum Admission: Sendable, Hashable {
        /// A new job: receive its source, then call `sourceReceived`.
        case admitted(JobID)
        /// The idempotency key names an earlier job with the same pipeline and source size. The caller receives
        /// this submission's source and treats it as that job only if its SHA-256 equals `sourceDigest`.
        case duplicate(JobID, sourceDigest: [UInt8])
        case rejected(ProtocolError)
    }

    /// Decides on a SUBMIT before its source arrives: idempotency, size, queue caps, then the token bucket.
    /// Caps are checked before the bucket so a rejected job does not spend a token.
    /// `formats`: what the pipeline encodes; only a worker that advertised all of them is given the job.
    /// `id`: one taken earlier with `takeJobID()` (a draft of the HTTP API), or nil for the next.
    public mutating func admit(
        tenant name: String, submit: Submit, variantCount: Int, formats: OutputFormats = [], subscriber: Subscriber?,
        id presetID: JobID? = nil, now: NIODeadline
    ) -> Admission {
        // Taken out while it changes, not copied: a copy would share its idempotency keys' storage with the
        // dictionary, and the first insert would then copy every key the tenant remembers, on every admission.
        guard var tenant = tenants.removeValue(forKey: name) else {
            return .rejected(ProtocolError(.unauthorized, "unknown tenant '\(name)'"))
        }
        defer { tenants[name] = tenant }
        if !submit.idempotencyKey.isEmpty, let earlier = tenant.idempotencyKeys[submit.idempotencyKey] {
            if let conflict = earlier.conflict(with: submit) {
                return .rejected(ProtocolError(.idempotencyConflict, conflict))
            }
            guard let digest = earlier.sourceDigest else {
                return .rejected(
                    ProtocolError(
                        .unavailable,
                        "job \(earlier.job) with idempotency key '\(submit.idempotencyKey)' is still receiving its source",
                        retryAfterMilliseconds: 100))
            }
            return .duplicate(earlier.job, sourceDigest: digest)  // a stream-mode caller then WATCHes it
        }
        let tenantHeldLimit = tenant.policy.maxHeldSourceBytes ?? settings.tenantMaxHeldSourceBytes
        let rejection: ProtocolError?
        if isStopping {
            rejection = ProtocolError(.unavailable, "the coordinator is shutting down", retryAfterMilliseconds: 1_000)
        } else if !submit.webhookURL.isEmpty, let problem = webhookProblem(tenant.policy) {
            rejection = ProtocolError(.invalidRequest, problem)
        } else if submit.mode == .async, let storeProblem {
            rejection = ProtocolError(
                .storageError, "async jobs cannot be stored now: \(storeProblem)", retryAfterMilliseconds: 1_000)
        } else if submit.sourceSize > settings.limits.maxSourceBytes {
            rejection = ProtocolError(
                .sourceTooLarge,
                "source of \(submit.sourceSize) bytes is over the limit of \(settings.limits.maxSourceBytes)")
        } else if tenant.waiting >= tenant.policy.maxQueued {
            rejection = ProtocolError(
                .queueFull, "tenant '\(name)' has \(tenant.waiting) jobs waiting, its limit",
                retryAfterMilliseconds: settings.queueFullRetryAfter.milliseconds)
        } else if tenant.heldSourceBytes + submit.sourceSize > tenantHeldLimit {
            rejection = ProtocolError(
                .queueFull,
                "tenant '\(name)' holds \(tenant.heldSourceBytes) source bytes; its limit is \(tenantHeldLimit)",
                retryAfterMilliseconds: settings.queueFullRetryAfter.milliseconds)
        } else if waitingJobs + tenant.waiting >= settings.maxQueuedJobs  // `tenant` is out of `tenants` meanwhile
            || heldSourceBytes + submit.sourceSize > settings.maxHeldSourceBytes
        {
            rejection = ProtocolError(
                .queueFull, "the cluster's queue is full",
                retryAfterMilliseconds: settings.queueFullRetryAfter.milliseconds)
        } else if case .rejected(let wait) = tenant.bucket.take(now: now) {
            rejection = ProtocolError(
                .rateLimited, "tenant '\(name)' is over its rate of \(tenant.policy.rate) jobs/s",
                retryAfterMilliseconds: wait.milliseconds)
        } else {
            rejection = nil
        }
        if let rejection {
            tenant.counters.rejected += 1
            totals.rejected += 1
            return .rejected(rejection)
        }
        let id = presetID ?? takeJobID()
        tenant.waiting += 1
        tenant.counters.admitted += 1
        meter(name, UsageCounts(admitted: 1), now: now)
        totals.admitted += 1
        if !submit.idempotencyKey.isEmpty {
            tenant.idempotencyKeys.insert(IdempotencyRecord(job: id, submit: submit), for: submit.idempotencyKey)
        }
        heldSourceBytes += submit.sourceSize
        tenant.heldSourceBytes += submit.sourceSize
        var job = JobRecord(
            id: id, tenant: name, priority: submit.priority, idempotencyKey: submit.idempotencyKey,
            pipeline: submit.pipeline, variantCount: variantCount, formats: formats,
            source: .chunks([]), sourceSize: submit.sourceSize, admittedAt: now,
            deadline: submit.deadlineMilliseconds == 0 ? nil : now + .milliseconds(Int64(submit.deadlineMilliseconds)),
            keepsRunningUnwatched: submit.mode == .async, subscribers: subscriber.map { [$0] } ?? [])
        job.isDurable = isDurable && submit.mode == .async
        job.webhookURL = submit.webhookURL
        jobs[id] = job
        return .admitted(id)
    }

    /// A job id never handed out before (its block reserved in the store first, on a durable coordinator).
    public mutating func takeJobID() -> JobID {
        let id = nextJobID
        nextJobID += 1
        reserveJobIDsIfNeeded()
        return id
    }

    /// The job's source is complete: queue it and dispatch what can be. `digest` (SHA-256 of the source) is
    /// given for jobs with an idempotency key, so resubmissions can be compared with it, and for async jobs.
    /// A durable job is written to the store instead, with `bytes` (the source, whole), and queued when that
    /// commits (`persisted`); `submitter` is then told ACCEPTED. A source left in the object store comes with empty
    /// `bytes`.
    public mutating func sourceReceived(
        _ id: JobID, source: TaskSource, bytes: ByteBuffer? = nil, digest: [UInt8]? = nil,
        submitter: Subscriber? = nil, now: NIODeadline
    ) -> [ClusterAction] {
        guard let index = jobs.index(forKey: id) else { return [] }
        let completed = jobs.inPlace(at: index) { job -> JobRecord? in
            guard !job.sourceComplete else { return nil }
            job.source = source
            job.sourceComplete = true
            return job
        }
        guard let job = completed else { return [] }
        meter(job.tenant, UsageCounts(bytesIn: job.sourceSize), now: now)
        if job.isDurable, let bytes, let digest {
            persist(id, source: bytes, digest: digest, submitter: submitter, now: now)
            return []
        }
        if !job.idempotencyKey.isEmpty, let digest {
            tenants[job.tenant]?.idempotencyKeys.update(job.idempotencyKey) { record in
                if record.job == id { record.sourceDigest = digest }
            }
        }
        queue.enqueue(id, tenant: job.tenant, priority: job.priority)
        if let deadline = job.deadline { deadlines.schedule(id, at: deadline) }
        var actions: [ClusterAction] = [.admitted(id, tenant: job.tenant, sourceSize: job.sourceSize)]
        dispatch(now: now, into: &actions)
        return actions
    }

    /// Number of jobs not yet ended (receiving, queued, parked, retrying or running).
    public var liveJobCount: Int { jobs.count }

    /// Graceful shutdown: refuse new jobs; those admitted run to their end.
    public mutating func stopAdmitting() { isStopping = true }

    var waitingJobs: Int { tenants.values.reduce(0) { $0 + $1.waiting } }

    /// The job has not ended (it may still be receiving its source).
    public func isLive(_ id: JobID) -> Bool { jobs[id] != nil }

    // MARK: Dispatch

    /// Hands queued jobs to workers with free slots, tenants in turn, least-loaded worker first.
    mutating func dispatch(now: NIODeadline) -> [ClusterAction] {
        var actions: [ClusterAction] = []
        dispatch(now: now, into: &actions)
        return actions
    }

    mutating func dispatch(now: NIODeadline, into actions: inout [ClusterAction]) {
        // Jobs no worker with a free slot can encode wait at the front of their queue, in order; a bounded number
        // is passed over per round, so jobs behind them are not starved and a round stays short.
        var passedOver: [JobID] = []
        defer {
            for id in passedOver.reversed() {
                guard let job = jobs[id] else { continue }
                queue.requeueAtFront(id, tenant: job.tenant, priority: job.priority)
            }
        }
        while !queue.isEmpty, passedOver.count < Self.maxPassedOverPerDispatch, leastLoadedWorker(supporting: []) != nil
        {
            guard let (_, id) = queue.dequeue(), let index = jobs.index(forKey: id) else { continue }
            let (state, deadline, formats, subscribers) = jobs.inPlace(at: index) {
                ($0.state, $0.deadline, $0.formats, $0.subscribers)
            }
            guard state == .queued else { continue }  // ended since
            if let deadline, deadline <= now {
                actions += finish(
                    id, outcome: .failure(.deadlineExceeded, "the deadline passed before a worker was free"), now: now)
                continue
            }
            if let connection = congestedOwner(of: subscribers) {
                parked[connection, default: []].append(id)
                continue
            }
            guard let workerID = leastLoadedWorker(supporting: formats) else {
                passedOver.append(id)
                continue
            }
            let leaseExpiry = now + settings.lease
            let job = jobs.inPlace(at: index) { job in
                job.attempt += 1
                job.state = .running
                job.worker = workerID
                job.leaseExpiry = leaseExpiry
                return job
            }
            recordLease(job, worker: workerID, now: now)
            leaseExpiries.schedule(id, attempt: job.attempt, at: leaseExpiry)
            workers[workerID]?.held[Heartbeat.HeldTask(taskID: id, attempt: job.attempt)] = job.tenant
            tenants[job.tenant]?.waiting -= 1
            tenants[job.tenant]?.running += 1
            let assign = Assign(
                taskID: id, attempt: job.attempt, leaseMilliseconds: settings.lease.milliseconds,
                timeLimitMilliseconds: settings.taskTimeLimit.milliseconds, sourceSize: job.sourceSize,
                pipeline: job.pipeline)
            actions.append(
                .assign(
                    worker: workerID, tenant: job.tenant, assign: assign, source: job.source,
                    queuedFor: job.attempt == 1 ? now - job.admittedAt : nil))
        }
    }

    /// The congested connection a job's results would all go to, if they would; such a job waits.
    private func congestedOwner(of subscribers: [Subscriber]) -> UInt64? {
        guard !congestedConnections.isEmpty, let first = subscribers.first,
            subscribers.allSatisfy({ congestedConnections.contains($0.connection) })
        else { return nil }
        return first.connection
    }

    static let maxPassedOverPerDispatch = 64

    /// The worker with the most free slots among those that encode every format in `formats`.
    private func leastLoadedWorker(supporting formats: OutputFormats) -> WorkerID? {
        var best: (id: WorkerID, free: Int)?
        for worker in workers.values where worker.freeSlots > 0 && worker.formats.isSuperset(of: formats) {
            if let current = best,
                worker.freeSlots < current.free || (worker.freeSlots == current.free && worker.id > current.id)
            {
                continue
            }
            best = (worker.id, worker.freeSlots)
        }
        return best?.id
    }

    /// Puts a running job back in the queue for another attempt, ahead of its tenant's other jobs; a job that has
    /// used all its attempts (its workers keep dying or going silent) fails instead.
    mutating func requeue(_ id: JobID, reason: String, now: NIODeadline) -> [ClusterAction] {
        guard var job = jobs[id], job.state == .running else { return [] }
        guard job.attempt < settings.maxAttempts else {
            return finish(
                id,
                outcome: .failure(
                    .retriesExhausted, "\(job.attempt) attempts ended without a result; the last: \(reason)"), now: now)
        }
        job.state = .queued
        job.worker = nil
        job.leaseExpiry = nil
        jobs[id] = job
        recordRequeue(job)
        tenants[job.tenant]?.running -= 1
        tenants[job.tenant]?.waiting += 1
        queue.requeueAtFront(id, tenant: job.tenant, priority: job.priority)
        if let deadline = job.deadline { deadlines.schedule(id, at: deadline) }  // waits again: its deadline applies
        return []
    }

    /// Ended jobs leave entries behind in the queue and the timelines (they are skipped, not searched for): once
    /// those outnumber the live jobs, they are dropped in one pass, so memory follows the live jobs.
    mutating func compactIfMostlyStale() {
        let jobs = self.jobs
        let limit = 2 * jobs.count + 1024
        if queue.count > limit { _ = queue.removeAll { jobs[$0]?.state != .queued } }
        if leaseExpiries.count > limit { leaseExpiries.removeAll { jobs[$0.job] == nil } }
        if retries.count > limit { retries.removeAll { jobs[$0.job] == nil } }
        if deadlines.count > limit { deadlines.removeAll { jobs[$0.job] == nil } }
    }

    // MARK: Backpressure

    /// A client connection's outbound bytes passed its budget: its jobs wait instead of producing more.
    public mutating func connectionCongested(_ connection: UInt64) {
        congestedConnections.insert(connection)
    }

    /// The connection drained: its parked jobs go back to the front of their queues.
    public mutating func connectionRelieved(_ connection: UInt64, now: NIODeadline) -> [ClusterAction] {
        guard congestedConnections.remove(connection) != nil else { return [] }
        unpark(connection)
        return dispatch(now: now)
    }

    mutating func unpark(_ connection: UInt64) {
        for id in (parked.removeValue(forKey: connection) ?? []).reversed() {
            guard let job = jobs[id], job.state == .queued, job.retryAt == nil else { continue }
            queue.requeueAtFront(id, tenant: job.tenant, priority: job.priority)
        }
    }

    // MARK: Time

    /// Expires leases, releases retries whose backoff is over, fails queued jobs past their deadline, dispatches.
    /// Only what is due is looked at: each timeline entry is checked against its job, stale ones are dropped.
    public mutating func tick(now: NIODeadline) -> [ClusterAction] {
        var actions: [ClusterAction] = []
        for due in leaseExpiries.takeDue(at: now) {
            guard let job = jobs[due.job], job.state == .running, job.attempt == due.attempt,
                let expiry = job.leaseExpiry, let worker = job.worker
            else { continue }  // ended, or another attempt
            guard expiry <= now else {
                leaseExpiries.schedule(due.job, attempt: due.attempt, at: expiry)  // renewed meanwhile
                continue
            }
            actions.append(.cancelTask(worker: worker, job: due.job, attempt: job.attempt))
            actions += requeue(due.job, reason: "the lease expired (no heartbeat from the worker)", now: now)
        }
        for due in retries.takeDue(at: now) {
            guard let job = jobs[due.job], job.state == .queued, let retryAt = job.retryAt, retryAt <= now else {
                continue
            }
            jobs[due.job]?.retryAt = nil
            queue.requeueAtFront(due.job, tenant: job.tenant, priority: job.priority)
        }
        for due in deadlines.takeDue(at: now) {
            // running or ended
            guard let job = jobs[due.job], job.state == .queued, job.sourceComplete else { continue }
            actions += finish(
                due.job, outcome: .failure(.deadlineExceeded, "the deadline passed before a worker was free"), now: now)
        }
        compactIfMostlyStale()
        return actions + dispatch(now: now)
    }
}
