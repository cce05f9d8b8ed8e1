import PixelFlowLocking

/// Tasks waiting for a condition that another task makes true. Cancelling a waiting task ends its wait,
/// so a waiter never keeps a task group from finishing.
final class Waiters: Sendable {
    private struct State {
        var nextID = 0
        var waiting: [Int: CheckedContinuation<Void, Never>] = [:]
        var cancelled: Set<Int> = []
    }

    private let state = Locked(State())

    /// Waits until `resumeAll()` is called, unless `isSatisfied()` (checked under the caller's rules) says it
    /// already holds. `isSatisfied` runs before suspending; it must not call back into this object.
    func wait(unless isSatisfied: @Sendable () -> Bool) async {
        let id = state.withLock { state -> Int in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.cancelled.remove(id) != nil || isSatisfied() { return true }
                    state.waiting[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let continuation = state.waiting.removeValue(forKey: id) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return continuation
            }
            continuation?.resume()
        }
    }

    func resumeAll() {
        let continuations = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state.waiting = [:] }
            return Array(state.waiting.values)
        }
        continuations.forEach { $0.resume() }
    }
}
