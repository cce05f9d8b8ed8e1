import Foundation
import PixelFlowProtocol

/// One job in ``PixelFlowClient/jobs(state:limit:before:)``: a stored (async) job as the coordinator's job store
/// has it.
public struct JobSummary: Sendable, Hashable {
    public var jobID: JobID
    /// The tenant that submitted it (an operator key lists every tenant's jobs).
    public var tenant: String
    public var state: JobState
    /// Attempts leased to workers so far.
    public var attempts: Int
    /// Variants stored so far.
    public var variants: Int
    /// Why it failed, when it did: the protocol's code (`undecodable_image`, `retries_exhausted`…) and message.
    public var error: (code: String, message: String)?
    public var admittedAt: Date
    /// When it ended; nil while it runs.
    public var endedAt: Date?

    public static func == (lhs: JobSummary, rhs: JobSummary) -> Bool {
        lhs.jobID == rhs.jobID && lhs.tenant == rhs.tenant && lhs.state == rhs.state && lhs.attempts == rhs.attempts
            && lhs.variants == rhs.variants && lhs.error?.code == rhs.error?.code
            && lhs.error?.message == rhs.error?.message && lhs.admittedAt == rhs.admittedAt
            && lhs.endedAt == rhs.endedAt
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(jobID) }

    init(wire job: JobList.Job) {
        jobID = JobID(job.jobID)
        tenant = job.tenant
        state = JobState(wire: job.state)
        attempts = Int(job.attempts)
        variants = Int(job.variants)
        error = job.state == .failed ? (job.code.name, job.message) : nil
        admittedAt = Date(timeIntervalSince1970: Double(job.admittedAt) / 1000)
        endedAt = job.endedAt == 0 ? nil : Date(timeIntervalSince1970: Double(job.endedAt) / 1000)
    }
}

/// A page of ``PixelFlowClient/jobs(state:limit:before:)``: the jobs, newest first, and where the next page starts.
public struct JobPage: Sendable, Hashable {
    public var jobs: [JobSummary]
    /// Pass as `before` for the next (older) page; nil when this is the last.
    public var next: JobID?
}
