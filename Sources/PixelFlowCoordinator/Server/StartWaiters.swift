import PixelFlowProtocol
import Synchronization

/// HTTP requests waiting for the admission of the job they started to commit (ACCEPTED's counterpart for the
/// HTTP API): resumed with nil once it is stored, or with the error that refused it.
final class StartWaiters: Sendable {
    /// The subscriber connection id that names "an HTTP request" in ClusterAction.accepted/refused (connection
    /// ids begin at 1).
    static let connection: UInt64 = 0

    private let waiting = Mutex<[JobID: CheckedContinuation<ProtocolError?, Never>]>([:])

    func wait(for job: JobID, _ continuation: CheckedContinuation<ProtocolError?, Never>) {
        waiting.withLock { $0[job] = continuation }
    }

    func resume(_ job: JobID, with error: ProtocolError?) {
        waiting.withLock { $0.removeValue(forKey: job) }?.resume(returning: error)
    }
}
