import Foundation

/// Acting on a process at the right moment from a thread of its own. A poll on the test's cooperative threads
/// can be held up for seconds while other suites run the engine on them, and miss a short window.
enum ProcessWatch {
    /// Sends SIGKILL to `pid` as soon as `ready` holds (checked every 5 ms); false if it did not hold `within`.
    static func kill(_ pid: pid_t, within limit: Duration, when ready: @escaping @Sendable () -> Bool) async -> Bool {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let deadline = ContinuousClock.now + limit
                while ContinuousClock.now < deadline {
                    if ready() {
                        Foundation.kill(pid, SIGKILL)
                        continuation.resume(returning: true)
                        return
                    }
                    usleep(5_000)
                }
                continuation.resume(returning: false)
            }
        }
    }
}
