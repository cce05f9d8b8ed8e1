import PixelFlowProtocol

/// What the cluster state machine asks the server to do. It does no I/O itself.
public enum ClusterAction: Sendable {
    /// Send ASSIGN and then the source's chunks on a new stream to the worker.
    case assign(worker: WorkerID, assign: Assign, source: [Chunk])
    /// Tell the worker to stop an attempt (lease expired, or the job was cancelled).
    case cancelTask(worker: WorkerID, job: JobID, attempt: UInt16)
    /// Send this message (JOB_DONE or JOB_FAILED) on each subscriber's stream, which it ends.
    case notify([Subscriber], Message)
}

/// Where a finished variant goes.
public enum VariantRoute: Sendable, Hashable {
    case deliver([Subscriber])
    /// Dropped: an old attempt (fencing), or a variant already delivered by an earlier attempt.
    case discard(reason: String)
}
