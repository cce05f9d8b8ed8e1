import PixelFlowProtocol

/// Finished jobs' final status, for STATUS and WATCH after the fact. Behind a protocol so a durable store
/// (SQLite, Postgres) can replace the in-memory one without touching the scheduler.
public protocol FinishedJobStore: Sendable {
    mutating func record(_ job: FinishedJob)
    func finished(_ job: JobID, tenant: String) -> FinishedJob?
}

public struct FinishedJob: Sendable, Hashable {
    public var tenant: String
    public var status: JobStatus
    /// JOB_DONE or JOB_FAILED, as sent to the job's subscribers.
    public var outcome: Message
}

/// Keeps the last `capacity` finished jobs in memory.
public struct InMemoryFinishedJobs: FinishedJobStore {
    private var jobs: RecentMap<JobID, FinishedJob>

    public init(capacity: Int) { jobs = RecentMap(capacity: capacity) }

    public mutating func record(_ job: FinishedJob) { jobs.insert(job, for: job.status.jobID) }

    public func finished(_ job: JobID, tenant: String) -> FinishedJob? {
        guard let finished = jobs[job], finished.tenant == tenant else { return nil }
        return finished
    }
}
