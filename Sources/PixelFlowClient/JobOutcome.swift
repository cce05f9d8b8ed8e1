import PixelFlowProtocol

/// How a job that succeeded ended: what ``PixelFlowClient/wait(_:)`` returns and ``JobEvent/completed(_:)`` carries.
public struct JobOutcome: Sendable, Hashable {
    /// The job that succeeded.
    public var jobID: JobID
    /// Variants produced, one per pipeline entry.
    public var variants: Int
    /// Attempts used (1 = the first try succeeded).
    public var attempts: Int
    /// Time from admission to the last variant.
    public var elapsedMilliseconds: Int

    /// Makes an outcome, e.g. for a test double of code that handles one.
    public init(jobID: JobID, variants: Int, attempts: Int, elapsedMilliseconds: Int) {
        self.jobID = jobID
        self.variants = variants
        self.attempts = attempts
        self.elapsedMilliseconds = elapsedMilliseconds
    }

    init(wire done: JobDone) {
        self.init(
            jobID: JobID(done.jobID), variants: Int(done.variants), attempts: Int(done.attempts),
            elapsedMilliseconds: Int(done.elapsedMilliseconds))
    }
}
