import PixelFlowProtocol
import Synchronization

/// What a worker connection holds, shared by its inbound loop, its heartbeat and its tasks.
final class WorkerSessionState: Sendable {
    struct Running {
        var task: Heartbeat.HeldTask
        /// Resumed by CANCEL_TASK to stop the task.
        var cancel: AsyncStream<Void>.Continuation
        /// Its outcome is being written: its slot is free, but a drain still waits for the write.
        var releasing = false
    }

    private struct State {
        var running: [UInt32: Running] = [:]
        var draining = false
        /// The coordinator is going away: no free slot is advertised, though this is not a drain of the worker.
        var refusing = false
    }

    let slots: Int
    private let state = Mutex(State())
    private let idleWaiters = Waiters()

    init(slots: Int) { self.slots = slots }

    func start(stream: UInt32, task: Heartbeat.HeldTask, cancel: AsyncStream<Void>.Continuation) {
        state.withLock { $0.running[stream] = Running(task: task, cancel: cancel) }
    }

    func finish(stream: UInt32) {
        let isIdle = state.withLock { state in
            state.running[stream] = nil
            return state.running.isEmpty
        }
        if isIdle { idleWaiters.resumeAll() }
    }

    /// The task has its outcome: its slot is free from now on (it is no longer counted or listed).
    func release(stream: UInt32) {
        state.withLock { $0.running[stream]?.releasing = true }
    }

    func cancel(stream: UInt32) {
        _ = state.withLock { $0.running[stream]?.cancel.yield() }
    }

    /// Free slots and held tasks, for HEARTBEAT.
    var heartbeat: Heartbeat {
        state.withLock { state in
            let held = state.running.values.filter { !$0.releasing }
            let free = state.draining || state.refusing ? 0 : max(0, slots - held.count)
            return Heartbeat(freeSlots: UInt16(clamping: free), tasks: held.map(\.task))
        }
    }

    /// Returns false when a drain had already started.
    @discardableResult
    func startDraining() -> Bool {
        state.withLock { state in
            defer { state.draining = true }
            return !state.draining
        }
    }

    func refuseNewTasks() {
        state.withLock { $0.refusing = true }
    }

    /// Tasks holding a slot.
    var runningCount: Int { state.withLock { $0.running.values.count { !$0.releasing } } }

    var isDraining: Bool { state.withLock { $0.draining } }

    /// Returns once no task is running (or when the waiting task is cancelled).
    func idle() async {
        await idleWaiters.wait { [self] in state.withLock { $0.running.isEmpty } }
    }
}
