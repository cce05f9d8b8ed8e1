import PixelFlowProtocol

/// Where a job stands: what ``PixelFlowClient/status(_:)`` and ``PixelFlowClient/cancel(_:)`` return.
public struct JobStatusReport: Sendable, Hashable {
    /// The job reported on.
    public var jobID: JobID
    /// Queued, running, or how it ended.
    public var state: JobState
    /// Attempts started so far (0 while queued).
    public var attempts: Int
    /// Variants produced so far.
    public var variantsDone: Int
    /// Why the job failed or was cancelled, as the coordinator gave it; nil while it is queued or running, and
    /// after it succeeded.
    public var error: PixelFlowClientError?

    /// Makes a report, e.g. for a test double of code that handles one.
    public init(jobID: JobID, state: JobState, attempts: Int, variantsDone: Int, error: PixelFlowClientError? = nil) {
        self.jobID = jobID
        self.state = state
        self.attempts = attempts
        self.variantsDone = variantsDone
        self.error = error
    }

    init(wire status: JobStatus) {
        let job = JobID(status.jobID)
        // A failed job without a code still reports an error, so callers need not look at two fields.
        let failure =
            status.state == .failed || status.code != .none
            ? PixelFlowClientError(wire: status.code, message: status.message, jobID: job) : nil
        self.init(
            jobID: job, state: JobState(wire: status.state), attempts: Int(status.attempts),
            variantsDone: Int(status.variantsDone), error: failure)
    }
}
