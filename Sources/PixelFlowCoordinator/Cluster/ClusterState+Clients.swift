import NIOCore
import PixelFlowProtocol

extension ClusterState {
    /// A job's status, live or finished; nil when the tenant has no such job.
    public func status(of id: JobID, tenant: String) -> JobStatus? {
        if let job = jobs[id] { return job.tenant == tenant ? job.status : nil }
        return finished.finished(id, tenant: tenant)?.status
    }

    public enum WatchResult: Sendable {
        /// The job already ended: this is its JOB_DONE or JOB_FAILED.
        case ended(Message)
        /// The subscriber will be notified (and sent the variants still to come).
        case subscribed
        case notFound
    }

    public mutating func watch(_ id: JobID, tenant: String, subscriber: Subscriber) -> WatchResult {
        if let job = jobs[id] {
            guard job.tenant == tenant else { return .notFound }
            jobs[id]?.subscribers.append(subscriber)
            return .subscribed
        }
        return finished.finished(id, tenant: tenant).map { .ended($0.outcome) } ?? .notFound
    }

    public enum FetchResult: Sendable {
        /// Live and stored: the subscriber is told when it ends, then its results are read from the store.
        case waiting
        /// Not live: its results, if any, are in the store.
        case ended
        /// A live stream job: its results are not kept.
        case notStored
        case notFound
    }

    /// FETCH: the stored results of an async job, once it has ended.
    public mutating func fetch(_ id: JobID, tenant: String, subscriber: Subscriber) -> FetchResult {
        guard let job = jobs[id] else { return .ended }
        guard job.tenant == tenant else { return .notFound }
        guard job.isStored else { return .notStored }
        jobs[id]?.subscribers.append(subscriber)
        return .waiting
    }

    /// Cancels a job that has not ended. Returns its status afterwards (nil: no such job).
    public mutating func cancel(_ id: JobID, tenant: String, now: NIODeadline) -> (JobStatus?, [ClusterAction]) {
        guard let job = jobs[id] else { return (status(of: id, tenant: tenant), []) }
        guard job.tenant == tenant else { return (nil, []) }
        let actions = finish(id, outcome: .cancelled, now: now)
        return (status(of: id, tenant: tenant), actions + dispatch(now: now))
    }

    /// A job's source never completed (its client left, broke the stream, or stalled): it fails, watchers are
    /// told, and its idempotency key is freed so a resubmission starts afresh.
    public mutating func abandon(_ id: JobID, reason: String, now: NIODeadline) -> [ClusterAction] {
        guard let job = jobs[id], !job.sourceComplete else { return [] }
        return finish(id, outcome: .failure(.cancelled, reason), now: now)  // finish frees its idempotency key
    }

    /// A stream stops receiving a job's results (its upload was refused after admission: it gets REJECTED).
    public mutating func unsubscribe(_ subscriber: Subscriber, from id: JobID) {
        jobs[id]?.subscribers.removeAll { $0 == subscriber }
    }

    /// A client connection closed: it no longer receives anything; its stream-mode jobs are cancelled.
    public mutating func clientLost(connection: UInt64, now: NIODeadline) -> [ClusterAction] {
        var actions: [ClusterAction] = []
        for (id, var job) in jobs where job.subscribers.contains(where: { $0.connection == connection }) {
            job.subscribers.removeAll { $0.connection == connection }
            jobs[id] = job
            guard job.subscribers.isEmpty, !job.keepsRunningUnwatched else { continue }
            if !job.sourceComplete {
                actions += abandon(id, reason: "the client left before its source was complete", now: now)
            } else {
                // Its key is forgotten: a client that reconnects submits the job again under it, and must get a
                // new run, not this cancelled one.
                if !job.idempotencyKey.isEmpty, tenants[job.tenant]?.idempotencyKeys[job.idempotencyKey]?.job == id {
                    tenants[job.tenant]?.idempotencyKeys.remove(job.idempotencyKey)
                }
                actions += finish(id, outcome: .cancelled, now: now)
            }
        }
        // Jobs parked for this connection that still run (async, or watched elsewhere) go back in the queue.
        congestedConnections.remove(connection)
        unpark(connection)
        return actions + dispatch(now: now)
    }
}
