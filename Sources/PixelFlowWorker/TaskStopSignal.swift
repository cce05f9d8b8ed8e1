import PixelFlowLocking

/// How a running task is told to stop from outside (CANCEL_TASK, its time limit): the first reason given is kept,
/// and the task's work is cancelled. Cheaper per task than a stream and a listening child task.
final class TaskStopSignal: Sendable {
    private struct State {
        var reason: TaskExecution.Stop?
        var work: Task<Result<Int, TaskExecution.Failure>, Never>?
    }

    private let state = Locked(State())

    /// Why the task was stopped, if it was.
    var reason: TaskExecution.Stop? { state.withLock { $0.reason } }

    /// Stops the task (once: later reasons are ignored).
    func stop(_ reason: TaskExecution.Stop) {
        let work: Task<Result<Int, TaskExecution.Failure>, Never>? = state.withLock { state in
            guard state.reason == nil else { return nil }
            state.reason = reason
            return state.work
        }
        work?.cancel()
    }

    /// The task's work, cancelled by `stop` — at once if it was stopped before the work began.
    func watch(_ work: Task<Result<Int, TaskExecution.Failure>, Never>) {
        let stopped = state.withLock { state in
            state.work = work
            return state.reason != nil
        }
        if stopped { work.cancel() }
    }
}
