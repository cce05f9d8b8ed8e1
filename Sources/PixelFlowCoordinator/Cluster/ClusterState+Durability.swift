import NIOCore
import PixelFlowProtocol
import PixelFlowStore

/// Durable jobs: the store writes each transition leaves behind, what happens once they commit or fail, and a
/// restart from what the store kept (docs/durable-jobs.md).
extension ClusterState {
    /// The store writes of the transitions since the last call, in order. The coordinator takes them after every
    /// step and holds back whatever that step told anyone until they have committed.
    public mutating func takeStoreWrites() -> [StoreWrite] {
        defer { storeWrites.removeAll(keepingCapacity: true) }
        return storeWrites
    }

    /// Turns durability on (a coordinator with a job store), resuming from what the store kept: job ids carry on
    /// above every id handed out before, live jobs are queued again (a running one's attempt counts as lost),
    /// recently finished ones answer STATUS and WATCH, and their idempotency keys still name them.
    public mutating func restore(from recovered: RecoveredState, now: NIODeadline) -> [ClusterAction] {
        isDurable = true
        nextJobID = max(nextJobID, recovered.nextJobID)
        webhookEventPrefix = "evt_\(recovered.storeID)"
        usage.restore(totals: recovered.usageTotals, lastSequence: recovered.usageSequence)
        reservedThrough = recovered.reservedThrough
        for stored in recovered.recentlyFinished {
            finished.record(FinishedJob(tenant: stored.tenant, status: stored.status, outcome: stored.outcome))
            rememberKey(of: stored)
        }
        var actions: [ClusterAction] = []
        for live in recovered.liveJobs {
            actions += restore(live, now: now)
        }
        return actions + dispatch(now: now)
    }

    private mutating func restore(_ live: RecoveredJob, now: NIODeadline) -> [ClusterAction] {
        let stored = live.job
        guard tenants[stored.tenant] != nil else {
            // Its tenant left the configuration: the job ends, recorded, with nobody to run it for.
            var ended = stored
            ended.state = .failed
            ended.code = .unauthorized
            ended.message = "tenant '\(stored.tenant)' is no longer in the configuration"
            let at = wallClock.unixMilliseconds(at: now)
            storeWrites.append(
                .finish(
                    job: stored.id, state: .failed, attempts: stored.attempt, code: ended.code, message: ended.message,
                    at: at, expiresAt: at + settings.resultTTL.nanoseconds / 1_000_000))
            finished.record(FinishedJob(tenant: stored.tenant, status: ended.status, outcome: ended.outcome))
            return []
        }
        let source = try? live.source.get()
        var job = JobRecord(
            id: stored.id, tenant: stored.tenant, priority: stored.priority, idempotencyKey: stored.idempotencyKey,
            pipeline: stored.pipeline, variantCount: stored.variantCount, formats: stored.formats,
            source: stored.sourceObjectKey.map { .object(key: $0) }
                ?? .chunks(
                    source.map { PayloadAssembler.chunks(of: $0, size: Int(settings.limits.maxChunkData)) } ?? []),
            sourceSize: stored.sourceSize, admittedAt: wallClock.deadline(atUnixMilliseconds: stored.admittedAt),
            deadline: stored.deadlineAt.map { wallClock.deadline(atUnixMilliseconds: $0) },
            keepsRunningUnwatched: true)
        job.sourceComplete = true
        job.isDurable = true
        job.isStored = true
        job.webhookURL = stored.webhookURL
        job.sourceDigest = stored.sourceSHA256
        job.attempt = stored.attempt
        job.delivered = Set(live.storedVariants.map(\.variantID))
        if !stored.webhookURL.isEmpty { job.variantSummaries = live.storedVariants.map(\.header) }
        jobs[stored.id] = job
        tenants[stored.tenant]?.waiting += 1
        tenants[stored.tenant]?.heldSourceBytes += stored.sourceSize
        heldSourceBytes += stored.sourceSize
        rememberKey(of: stored)
        if case .failure(let error) = live.source {
            return finish(stored.id, outcome: .failure(.storageError, "the job's source is lost: \(error)"), now: now)
        }
        // It was running when the coordinator stopped: that attempt is lost, as with a lost worker.
        if stored.state == .running && stored.attempt >= settings.maxAttempts {
            let message = "\(stored.attempt) attempts ended without a result; the last: the coordinator restarted"
            return finish(stored.id, outcome: .failure(.retriesExhausted, message), now: now)
        }
        if stored.state == .running { storeWrites.append(.requeue(job: stored.id, retryAt: nil)) }
        if let deadline = job.deadline { deadlines.schedule(stored.id, at: deadline) }
        // A job that was waiting out its retry backoff keeps waiting, for what is left of it.
        if let retryAt = stored.retryAt, stored.state == .queued, retryAt > wallClock.unixMilliseconds(at: now) {
            let due = wallClock.deadline(atUnixMilliseconds: retryAt)
            jobs[stored.id]?.retryAt = due
            retries.schedule(stored.id, attempt: stored.attempt, at: due)
            return []
        }
        queue.enqueue(stored.id, tenant: stored.tenant, priority: stored.priority)
        return []
    }

    private mutating func rememberKey(of stored: StoredJob) {
        guard !stored.idempotencyKey.isEmpty else { return }
        var record = IdempotencyRecord(job: stored.id, pipeline: stored.pipeline, sourceSize: stored.sourceSize)
        record.sourceDigest = stored.sourceSHA256
        tenants[stored.tenant]?.idempotencyKeys.insert(record, for: stored.idempotencyKey)
    }

    /// The admissions of these jobs committed: they are queued, and their submitters are told ACCEPTED.
    public mutating func persisted(_ ids: [JobID], now: NIODeadline) -> [ClusterAction] {
        var actions: [ClusterAction] = []
        for id in ids {
            if let submitter = submitters.removeValue(forKey: id) {
                actions.append(.accepted(id, submitter: submitter))
            }
            guard var job = jobs[id], job.isPersisting else { continue }  // cancelled meanwhile: its end is written
            job.isPersisting = false
            jobs[id] = job
            if !job.idempotencyKey.isEmpty, let digest = job.sourceDigest {
                tenants[job.tenant]?.idempotencyKeys.update(job.idempotencyKey) { record in
                    if record.job == id { record.sourceDigest = digest }
                }
            }
            queue.enqueue(id, tenant: job.tenant, priority: job.priority)
            if let deadline = job.deadline { deadlines.schedule(id, at: deadline) }
            actions.append(.admitted(id, tenant: job.tenant, sourceSize: job.sourceSize))
        }
        dispatch(now: now, into: &actions)
        return actions
    }

    /// The admissions of these jobs did not commit: nothing of them was kept, so they were never accepted. Their
    /// submitters get REJECTED(`storage_error`) and may retry.
    public mutating func persistFailed(_ ids: [JobID], reason: String, now: NIODeadline) -> [ClusterAction] {
        var actions: [ClusterAction] = []
        let error = ProtocolError(
            .storageError, "the job could not be stored: \(reason)", retryAfterMilliseconds: 1_000)
        for id in ids {
            if let submitter = submitters.removeValue(forKey: id) {
                actions.append(.refused(id, submitter: submitter, error))
            }
            guard jobs[id]?.isPersisting == true else { continue }
            jobs[id]?.isPersisting = false
            jobs[id]?.isStored = false
            jobs[id]?.sourceComplete = false  // so its idempotency key is freed with it
            actions += finish(id, outcome: .failure(.storageError, error.message), now: now)
        }
        return actions
    }

    /// Writes about these running jobs (a lease, a variant, an outcome) did not commit: what they stand for would
    /// not survive a restart, so a job still running fails with `storage_error` instead of promising results it
    /// cannot keep.
    public mutating func storageFailed(_ ids: [JobID], reason: String, now: NIODeadline) -> [ClusterAction] {
        var actions: [ClusterAction] = []
        for id in ids where jobs[id]?.isPersisting == false {
            actions += finish(id, outcome: .failure(.storageError, "the job store failed: \(reason)"), now: now)
        }
        return actions + dispatch(now: now)
    }

    /// Why async jobs cannot be accepted now (the store is failing), or nil when they can.
    public mutating func setStoreProblem(_ problem: String?) { storeProblem = problem }

    // MARK: Writes of the transitions

    /// An async job's source is complete: its record goes to the store, and it waits there until that commits.
    mutating func persist(_ id: JobID, source: ByteBuffer, digest: [UInt8], submitter: Subscriber?, now: NIODeadline) {
        guard var job = jobs[id] else { return }
        job.isPersisting = true
        job.isStored = true
        job.sourceDigest = digest
        jobs[id] = job
        if let submitter { submitters[id] = submitter }
        let stored = StoredJob(
            id: id, tenant: job.tenant, priority: job.priority, pipeline: job.pipeline, variantCount: job.variantCount,
            formats: job.formats, sourceSHA256: digest, sourceSize: job.sourceSize,
            idempotencyKey: job.idempotencyKey, webhookURL: job.webhookURL, attempt: job.attempt,
            admittedAt: wallClock.unixMilliseconds(at: job.admittedAt),
            deadlineAt: job.deadline.map { wallClock.unixMilliseconds(at: $0) }, sourceObjectKey: job.source.objectKey)
        storeWrites.append(.admit(stored, source: source))
    }

    /// A draft of the HTTP API was admitted in this step: it goes in the same transaction as the job's record.
    mutating func draftStarted(_ id: JobID) {
        storeWrites.append(.startDraft(job: id))
    }

    /// The job is deleted from the store (DELETE over HTTP), after whatever is already written about it.
    mutating func jobDeleted(_ id: JobID) {
        storeWrites.append(.deleteJob(job: id))
    }

    /// Reserves the next block of job ids before the current one runs out.
    mutating func reserveJobIDsIfNeeded() {
        guard isDurable, nextJobID + Self.jobIDBlock / 2 > reservedThrough else { return }
        reservedThrough = nextJobID + Self.jobIDBlock
        storeWrites.append(.reserveJobIDs(through: reservedThrough))
    }

    static let jobIDBlock: UInt64 = 1 << 20

    mutating func recordLease(_ job: JobRecord, worker: WorkerID, now: NIODeadline) {
        guard job.isStored else { return }
        storeWrites.append(
            .lease(
                job: job.id, attempt: job.attempt, worker: workers[worker]?.name ?? "worker \(worker)",
                at: wallClock.unixMilliseconds(at: now)))
    }

    mutating func recordRequeue(_ job: JobRecord) {
        guard job.isStored else { return }
        storeWrites.append(.requeue(job: job.id, retryAt: job.retryAt.map { wallClock.unixMilliseconds(at: $0) }))
    }

    mutating func recordEnd(_ job: JobRecord, now: NIODeadline) {
        guard job.isStored else { return }
        let at = wallClock.unixMilliseconds(at: now)
        storeWrites.append(
            .finish(
                job: job.id, state: job.state, attempts: job.attempt, code: job.failure?.code ?? .none,
                message: job.failure?.message ?? "", at: at, expiresAt: at + settings.resultTTL.nanoseconds / 1_000_000)
        )
    }

    /// A job with a webhook ended: its event goes to the store's outbox with its outcome, whatever its mode.
    mutating func recordWebhook(_ job: JobRecord, now: NIODeadline) {
        guard isDurable, !job.webhookURL.isEmpty else { return }
        let at = wallClock.unixMilliseconds(at: now)
        let eventID = "\(webhookEventPrefix)_\(job.id)"
        let body = WebhookEventBody.json(eventID: eventID, job: job, endedAt: at)
        storeWrites.append(
            .enqueueWebhook(
                WebhookEvent(
                    eventID: eventID, jobID: job.id, tenant: job.tenant, url: job.webhookURL,
                    body: ByteBuffer(string: body), createdAt: at)))
    }

    /// Why a job of this tenant may not name a webhook, if it may not.
    func webhookProblem(_ policy: TenantPolicy) -> String? {
        guard isDurable else {
            return
                "webhook_url needs a coordinator with a job store (store.path), which keeps the events until delivered"
        }
        guard policy.webhookSecret != nil else {
            return
                "webhook_url given, but tenant '\(policy.keyID)' has no webhook_secret in the configuration to sign webhooks with"
        }
        return nil
    }

    /// Whether the job's results are stored as they arrive.
    public func isStored(_ id: JobID) -> Bool { jobs[id]?.isStored ?? false }
}

extension StoredJob {
    var status: JobStatus {
        JobStatus(
            jobID: id, state: state, attempts: attempt, variantsDone: UInt16(clamping: variantCount),
            code: state == .failed ? code : .none, message: state == .failed ? message : "")
    }

    /// The JOB_DONE or JOB_FAILED its subscribers were sent.
    var outcome: Message {
        switch state {
        case .succeeded:
            let elapsed = UInt32(clamping: max(0, (finishedAt ?? admittedAt) - admittedAt))
            return .jobDone(
                JobDone(
                    jobID: id, variants: UInt16(clamping: variantCount), attempts: attempt,
                    elapsedMilliseconds: elapsed))
        case .cancelled:
            return .jobFailed(
                JobFailed(jobID: id, code: .cancelled, attempts: attempt, message: "the job was cancelled"))
        case .failed, .queued, .running:
            return .jobFailed(JobFailed(jobID: id, code: code, attempts: attempt, message: message))
        }
    }
}
