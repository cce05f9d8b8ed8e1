import PixelFlowLocking
import PixelFlowProtocol

/// HTTP requests waiting for a job's step to commit: a start (ACCEPTED's counterpart for the HTTP API) or a
/// deletion. Resumed with nil once it is stored, or with the error that refused it.
final class CommitWaiters: Sendable {
    /// The subscriber connection id that names "an HTTP request" in ClusterAction.accepted/refused (connection
    /// ids begin at 1).
    static let connection: UInt64 = 0

    private let waiting = Locked<[JobID: @Sendable (ProtocolError?) -> Void]>([:])

    func wait(for job: JobID, _ resume: @escaping @Sendable (ProtocolError?) -> Void) {
        waiting.withLock { $0[job] = resume }
    }

    func resume(_ job: JobID, with error: ProtocolError?) {
        waiting.withLock { $0.removeValue(forKey: job) }?(error)
    }
}
