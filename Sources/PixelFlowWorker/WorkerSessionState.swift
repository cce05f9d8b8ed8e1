import PixelFlowProtocol
import Synchronization

/// What a worker connection holds, shared by its inbound loop, its heartbeat and its tasks.
final class WorkerSessionState: Sendable {
    struct Running {
        var task: Heartbeat.HeldTask
        /// Resumed by CANCEL_TASK to stop the task.
        var cancel: AsyncStream<Void>.Continuation
    }

    private struct State {
        var running: [UInt32: Running] = [:]
        var draining = false
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

    func cancel(stream: UInt32) {
        state.withLock { $0.running[stream]?.cancel.yield() }
    }

    /// Free slots and held tasks, for HEARTBEAT.
    var heartbeat: Heartbeat {
        state.withLock { state in
            let free = state.draining ? 0 : max(0, slots - state.running.count)
            return Heartbeat(freeSlots: UInt16(clamping: free), tasks: state.running.values.map(\.task))
        }
    }

    func startDraining() {
        state.withLock { $0.draining = true }
    }

    var isDraining: Bool { state.withLock { $0.draining } }

    /// Returns once no task is running (or when the waiting task is cancelled).
    func idle() async {
        await idleWaiters.wait { [self] in state.withLock { $0.running.isEmpty } }
    }
}
