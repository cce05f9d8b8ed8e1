import NIOCore
import PixelFlowLocking
import PixelFlowProtocol

/// What a worker connection holds, shared by its inbound loop, its heartbeat and its tasks.
final class WorkerSessionState: Sendable {
    struct Running {
        var task: Heartbeat.HeldTask
        /// ASSIGN's time limit, as a point in time; nil: none.
        var deadline: NIODeadline?
        /// Told to stop the task (CANCEL_TASK, time limit).
        var stop: TaskStopSignal
        /// Its outcome is being written: its slot is free, but a drain still waits for the write.
        var releasing = false
    }

    private struct State {
        var running: [UInt32: Running] = [:]
        /// Tasks taken whose source is still arriving: they hold a slot and are listed in HEARTBEATs, so their
        /// lease is renewed however long the source takes (PROTOCOL.md §10.4).
        var receiving: [UInt32: Heartbeat.HeldTask] = [:]
        /// Tasks in `running` not yet releasing: the slots in use.
        var holding = 0
        var draining = false
        /// The coordinator is going away: no free slot is advertised, though this is not a drain of the worker.
        var refusing = false
    }

    let slots: Int
    private let state = Locked(State())
    private let idleWaiters = Waiters()

    init(slots: Int) { self.slots = slots }

    func receive(stream: UInt32, task: Heartbeat.HeldTask) {
        state.withLock { $0.receiving[stream] = task }
    }

    func stopReceiving(stream: UInt32) {
        _ = state.withLock { $0.receiving.removeValue(forKey: stream) }
    }

    func start(
        stream: UInt32, task: Heartbeat.HeldTask, deadline: NIODeadline?,
        stop: TaskStopSignal
    ) {
        state.withLock { state in
            state.receiving[stream] = nil
            state.running[stream] = Running(task: task, deadline: deadline, stop: stop)
            state.holding += 1
        }
    }

    func finish(stream: UInt32) {
        let isIdle = state.withLock { state in
            if let running = state.running.removeValue(forKey: stream), !running.releasing { state.holding -= 1 }
            return state.running.isEmpty
        }
        if isIdle { idleWaiters.resumeAll() }
    }

    /// The task has its outcome: its slot is free from now on (it is no longer counted or listed).
    func release(stream: UInt32) {
        state.withLock { state in
            guard let running = state.running[stream], !running.releasing else { return }
            state.running[stream]?.releasing = true
            state.holding -= 1
        }
    }

    /// Tells every task past its time limit to stop (each is told once).
    func stopOverdue(now: NIODeadline) {
        state.withLock { state in
            for (stream, running) in state.running {
                guard let deadline = running.deadline, deadline <= now, !running.releasing else { continue }
                running.stop.stop(.timeLimit)
                state.running[stream]?.deadline = nil
            }
        }
    }

    func cancel(stream: UInt32) {
        state.withLock { $0.running[stream]?.stop }?.stop(.cancelled)
    }

    /// Free slots and held tasks, for HEARTBEAT.
    var heartbeat: Heartbeat {
        state.withLock { state in
            let held = state.running.values.filter { !$0.releasing }.map(\.task) + state.receiving.values
            let free = state.draining || state.refusing ? 0 : max(0, slots - held.count)
            return Heartbeat(freeSlots: UInt16(clamping: free), tasks: held)
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
    var runningCount: Int { state.withLock { $0.holding } }

    var isDraining: Bool { state.withLock { $0.draining } }

    /// Returns once no task is running (or when the waiting task is cancelled).
    func idle() async {
        await idleWaiters.wait { [self] in state.withLock { $0.running.isEmpty } }
    }
}
