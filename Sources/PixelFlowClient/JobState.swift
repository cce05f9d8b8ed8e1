import PixelFlowProtocol

/// Where a job is in its life: queued, running, then succeeded, failed or cancelled. A struct rather than an enum
/// so that new states can be added without breaking callers: compare with `==`, or `switch` with a `default:` case.
public struct JobState: Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case queued, running, succeeded, failed, cancelled
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// Admitted, waiting for a worker slot.
    public static let queued = JobState(.queued)
    /// A worker is producing its variants.
    public static let running = JobState(.running)
    /// Every variant was produced.
    public static let succeeded = JobState(.succeeded)
    /// The job ended with an error; ``JobStatusReport/error`` says which.
    public static let failed = JobState(.failed)
    /// The job was cancelled before it ended.
    public static let cancelled = JobState(.cancelled)

    /// Whether the job has ended: its state will not change any more.
    public var isTerminal: Bool {
        switch kind {
        case .queued, .running: false
        case .succeeded, .failed, .cancelled: true
        }
    }

    /// The state's lower-case name (`queued`, `running`…).
    public var description: String {
        switch kind {
        case .queued: "queued"
        case .running: "running"
        case .succeeded: "succeeded"
        case .failed: "failed"
        case .cancelled: "cancelled"
        }
    }

    /// The protocol's state.
    var wire: JobStatus.State {
        switch kind {
        case .queued: .queued
        case .running: .running
        case .succeeded: .succeeded
        case .failed: .failed
        case .cancelled: .cancelled
        }
    }

    init(wire state: JobStatus.State) {
        switch state {
        case .queued: self = .queued
        case .running: self = .running
        case .succeeded: self = .succeeded
        case .failed: self = .failed
        case .cancelled: self = .cancelled
        }
    }
}
