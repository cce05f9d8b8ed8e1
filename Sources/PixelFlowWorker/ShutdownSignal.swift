import Synchronization

/// A one-shot signal (SIGTERM, or a test) that any number of tasks can wait for.
public final class ShutdownSignal: Sendable {
    private let fired = Atomic<Bool>(false)
    private let waiters = Waiters()

    public init() {}

    public func fire() {
        guard fired.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else {
            return
        }
        waiters.resumeAll()
    }

    public var isFired: Bool { fired.load(ordering: .sequentiallyConsistent) }

    /// Returns once fired, or when the waiting task is cancelled.
    public func wait() async {
        await waiters.wait { [self] in isFired }
    }
}
