import NIOCore
import PixelFlowProtocol

/// What the cluster state machine asks the server to do. It does no I/O itself.
///
/// The cases are also the job's durable effects, in the order a store must record them: `admitted` (source
/// complete, job queued), `assign` (leased to a worker for an attempt), a `VariantRoute.deliver` from
/// `variantFinished` (a result), and `finished` (the outcome).
public enum ClusterAction: Sendable {
    /// The job's source is complete and it is queued: from here on it is the cluster's promise.
    case admitted(JobID, tenant: String, sourceSize: UInt64)
    /// Send ASSIGN and then the source's chunks on a new stream to the worker — or, for a source in the object store,
    /// ASSIGN_OBJECT with URLs presigned for it and for the job's results: the job is leased for this attempt.
    /// `queuedFor`: how long a first attempt waited since admission (nil for a retry).
    case assign(worker: WorkerID, tenant: String, assign: Assign, source: TaskSource, queuedFor: TimeAmount?)
    /// Tell the worker to stop an attempt (lease expired, or the job was cancelled).
    case cancelTask(worker: WorkerID, job: JobID, attempt: UInt16)
    /// The job ended: send `outcome` (JOB_DONE or JOB_FAILED) on each subscriber's stream, which it ends.
    case finished(JobID, tenant: String, subscribers: [Subscriber], outcome: Message)
    /// A durable job's admission committed: tell its submitter ACCEPTED.
    case accepted(JobID, submitter: Subscriber)
    /// A durable job's admission did not commit: tell its submitter REJECTED with this error.
    case refused(JobID, submitter: Subscriber, ProtocolError)
    /// A broken invariant: the job concerned was failed with `internal`; the server logs this at error level.
    case internalError(String)
}

/// Where a finished variant goes.
public enum VariantRoute: Sendable, Hashable {
    /// To these subscribers; a stored job's variant is written to the store first.
    case deliver([Subscriber], isStored: Bool = false)
    /// Dropped: an old attempt (fencing), or a variant already delivered by an earlier attempt.
    case discard(reason: String)
}
