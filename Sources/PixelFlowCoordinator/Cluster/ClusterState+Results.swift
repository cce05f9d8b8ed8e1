import NIOCore
import PixelFlowProtocol

extension ClusterState {
    /// How a job ended.
    enum Outcome {
        case success
        case failure(ErrorCode, String)
        case cancelled
    }

    /// Is this result from the job's current attempt on this worker? Anything else is fenced off.
    private mutating func isCurrent(_ id: JobID, attempt: UInt16, worker: WorkerID) -> Bool {
        guard let index = jobs.index(forKey: id) else { return false }
        return isCurrent(at: index, attempt: attempt, worker: worker)
    }

    private mutating func isCurrent(at index: [JobID: JobRecord].Index, attempt: UInt16, worker: WorkerID) -> Bool {
        jobs.inPlace(at: index) { (job: inout JobRecord) -> Bool in
            job.state == .running && job.attempt == attempt && job.worker == worker
        }
    }

    /// A worker finished encoding one variant (all its chunks received). Delivered once per job, whatever the
    /// attempt; a delivered variant's bytes are metered, and a job with a webhook remembers it for its event.
    public mutating func variantFinished(_ header: VariantHeader, worker: WorkerID, now: NIODeadline) -> VariantRoute {
        let id = header.jobID
        guard let index = jobs.index(forKey: id), isCurrent(at: index, attempt: header.attempt, worker: worker) else {
            discardedResults += 1
            return .discard(reason: "attempt \(header.attempt) of job \(id) is no longer current")
        }
        let delivery = jobs.inPlace(at: index) { job -> (tenant: String, to: [Subscriber], isStored: Bool)? in
            guard job.delivered.insert(header.variantID).inserted else { return nil }
            if !job.webhookURL.isEmpty { job.variantSummaries.append(header) }
            return (job.tenant, job.subscribers, job.isStored)
        }
        guard let delivery else {
            discardedResults += 1
            return .discard(reason: "variant '\(header.variantID)' of job \(id) was already delivered")
        }
        meter(delivery.tenant, UsageCounts(bytesOut: header.size), now: now)
        return .deliver(delivery.to, isStored: delivery.isStored)
    }

    /// `usage`: what the task cost (protocol v2 workers), metered to the job's tenant whether or not it is current.
    public mutating func taskDone(
        worker: WorkerID, job id: JobID, attempt: UInt16, usage: TaskUsage? = nil, now: NIODeadline
    ) -> [ClusterAction] {
        let current = isCurrent(id, attempt: attempt, worker: worker)
        release(worker: worker, job: id, attempt: attempt, failed: false, usage: usage, now: now)
        guard current else {
            discardedResults += 1
            return dispatch(now: now)
        }
        guard let index = jobs.index(forKey: id) else { return dispatch(now: now) }
        let (delivered, expected) = jobs.inPlace(at: index) { ($0.delivered.count, $0.variantCount) }
        if delivered < expected {
            let message = "the worker reported success after \(delivered) of \(expected) variants"
            return retryOrFail(id, code: .internal, permanent: false, message: message, now: now) + dispatch(now: now)
        }
        return finish(id, outcome: .success, now: now) + dispatch(now: now)
    }

    public mutating func taskFailed(
        worker: WorkerID, job id: JobID, attempt: UInt16, code: ErrorCode, permanent: Bool, message: String,
        usage: TaskUsage? = nil, now: NIODeadline
    ) -> [ClusterAction] {
        let current = isCurrent(id, attempt: attempt, worker: worker)
        release(worker: worker, job: id, attempt: attempt, failed: true, usage: usage, now: now)
        guard current else {
            discardedResults += 1
            return dispatch(now: now)
        }
        return retryOrFail(id, code: code, permanent: permanent, message: message, now: now) + dispatch(now: now)
    }

    /// Codes that no retry can fix, whatever the worker's `permanent` flag says.
    static let permanentCodes: Set<ErrorCode> = [
        .undecodableImage, .imageTooLarge, .unsupportedFormat, .invalidPipeline, .sourceTooLarge,
    ]

    private mutating func retryOrFail(
        _ id: JobID, code: ErrorCode, permanent: Bool, message: String, now: NIODeadline
    ) -> [ClusterAction] {
        guard var job = jobs[id] else { return [] }
        if permanent || Self.permanentCodes.contains(code) {
            return finish(id, outcome: .failure(code, message), now: now)
        }
        guard job.attempt < settings.maxAttempts else {
            // An object store that stays down is the cause to report, not the retries it took to find out.
            let reported: ErrorCode = code == .storageError ? .storageError : .retriesExhausted
            return finish(
                id, outcome: .failure(reported, "\(job.attempt) attempts failed; the last: \(code.name): \(message)"),
                now: now)
        }
        job.state = .queued
        job.worker = nil
        job.leaseExpiry = nil
        let backoff = min(
            settings.retryBackoffMax.nanoseconds, settings.retryBackoff.nanoseconds << Int64(min(job.attempt - 1, 20)))
        let retryAt = now + .nanoseconds(backoff)
        job.retryAt = retryAt
        job.failure = (code, message)
        jobs[id] = job
        recordRequeue(job)
        tenants[job.tenant]?.running -= 1
        tenants[job.tenant]?.waiting += 1
        retries.schedule(id, attempt: job.attempt, at: retryAt)
        if let deadline = job.deadline { deadlines.schedule(id, at: deadline) }
        return []
    }

    /// The worker no longer holds this attempt; what it cost goes to the tenant it ran for.
    private mutating func release(
        worker: WorkerID, job: JobID, attempt: UInt16, failed: Bool, usage: TaskUsage?, now: NIODeadline
    ) {
        guard let tenant = workers[worker]?.held.removeValue(forKey: Heartbeat.HeldTask(taskID: job, attempt: attempt))
        else { return }
        if failed { workers[worker]?.failed += 1 } else { workers[worker]?.done += 1 }
        if let usage {
            meter(
                tenant, UsageCounts(sourcePixels: usage.sourcePixels, cpuMilliseconds: UInt64(usage.cpuMilliseconds)),
                now: now)
        }
    }

    /// Ends a job: tells its subscribers, remembers the outcome, frees what it held.
    mutating func finish(_ id: JobID, outcome: Outcome, now: NIODeadline) -> [ClusterAction] {
        guard var job = jobs.removeValue(forKey: id) else { return [] }
        let elapsed = UInt32(clamping: (now - job.admittedAt).nanoseconds / 1_000_000)
        guard var tenant = tenants.removeValue(forKey: job.tenant) else {  // taken out, not copied (see `admit`)
            // Every job belongs to a configured tenant; if that ever breaks, the job still ends, typed and logged.
            let problem = "job \(id) names tenant '\(job.tenant)', which the coordinator does not know"
            let failed = JobFailed(jobID: id, code: .internal, attempts: job.attempt, message: problem)
            heldSourceBytes -= min(heldSourceBytes, job.sourceSize)
            return [
                .internalError(problem),
                .finished(id, tenant: job.tenant, subscribers: job.subscribers, outcome: .jobFailed(failed)),
            ]
        }
        // A job that ends before its source is complete never names a source: its key is free for a new upload.
        if !job.sourceComplete, !job.idempotencyKey.isEmpty, tenant.idempotencyKeys[job.idempotencyKey]?.job == id {
            tenant.idempotencyKeys.remove(job.idempotencyKey)
        }
        if job.state == .running { tenant.running -= 1 } else { tenant.waiting -= 1 }
        heldSourceBytes -= job.sourceSize
        tenant.heldSourceBytes -= job.sourceSize
        var actions: [ClusterAction] = []
        let message: Message
        switch outcome {
        case .success:
            job.state = .succeeded
            job.failure = nil
            meter(job.tenant, UsageCounts(succeeded: 1), now: now)
            tenant.counters.succeeded += 1
            totals.succeeded += 1
            message = .jobDone(
                JobDone(
                    jobID: id, variants: UInt16(clamping: job.delivered.count), attempts: job.attempt,
                    elapsedMilliseconds: elapsed))
        case .failure(let code, let text):
            job.state = .failed
            job.failure = (code, text)
            meter(job.tenant, UsageCounts(failed: 1), now: now)
            tenant.counters.failed += 1
            totals.failed += 1
            message = .jobFailed(JobFailed(jobID: id, code: code, attempts: job.attempt, message: text))
        case .cancelled:
            if job.state == .running, let worker = job.worker {
                actions.append(.cancelTask(worker: worker, job: id, attempt: job.attempt))
            }
            job.state = .cancelled
            job.failure = nil  // STATUS carries a code and message only for failed jobs (PROTOCOL.md §6.2)
            meter(job.tenant, UsageCounts(cancelled: 1), now: now)
            tenant.counters.failed += 1
            totals.failed += 1
            message = .jobFailed(
                JobFailed(jobID: id, code: .cancelled, attempts: job.attempt, message: "the job was cancelled"))
        }
        tenants[job.tenant] = tenant
        recordEnd(job, now: now)
        recordWebhook(job, now: now)
        finished.record(FinishedJob(tenant: job.tenant, status: job.status, outcome: message))
        actions.append(.finished(id, tenant: job.tenant, subscribers: job.subscribers, outcome: message))
        return actions
    }
}
