import Foundation
import PixelFlowLocking

/// The CPU time each task costs. libvips encodes on threads of its own, so a task's time cannot be read from the
/// thread that runs it: the process's CPU time is shared out instead, evenly among the tasks running at each
/// moment (settled whenever a task starts or stops, so the split between two events is exact). CPU spent while
/// no task runs (heartbeats, idle connections) is nobody's.
final class TaskCPUMeter: Sendable {
    /// One process-wide meter: workers that share a process (`pixelflow dev`) share its CPU time too.
    static let shared = TaskCPUMeter(processCPUNanoseconds: TaskCPUMeter.processCPUTime)

    struct Token: Hashable, Sendable {
        fileprivate let value: UInt64
    }

    /// "Virtual time": `sharePerTask` grows, at each reading, by the CPU time since the last one divided by the
    /// tasks running then. A task's share is the growth between its start and its stop: O(1) per event, however
    /// many tasks run at once.
    private struct State {
        var lastReading: UInt64
        var sharePerTask: UInt64 = 0
        var nextToken: UInt64 = 0
        /// `sharePerTask` when each running task started.
        var running: [UInt64: UInt64] = [:]

        mutating func settle(at reading: UInt64) {
            let spent = reading > lastReading ? reading - lastReading : 0
            lastReading = max(lastReading, reading)
            guard !running.isEmpty else { return }
            sharePerTask += spent / UInt64(running.count)
        }
    }

    private let clock: @Sendable () -> UInt64
    private let state: Locked<State>

    init(processCPUNanoseconds clock: @escaping @Sendable () -> UInt64) {
        self.clock = clock
        self.state = Locked(State(lastReading: clock()))
    }

    func start() -> Token {
        let reading = clock()
        return state.withLock { state in
            state.settle(at: reading)
            state.nextToken += 1
            state.running[state.nextToken] = state.sharePerTask
            return Token(value: state.nextToken)
        }
    }

    /// Ends the task's share and returns it, in milliseconds (rounded to nearest).
    func stop(_ token: Token) -> UInt32 {
        let reading = clock()
        let nanoseconds = state.withLock { state in
            state.settle(at: reading)
            guard let startShare = state.running.removeValue(forKey: token.value) else { return UInt64(0) }
            return state.sharePerTask - startShare
        }
        return UInt32(clamping: (nanoseconds + 500_000) / 1_000_000)
    }

    /// CPU time of the whole process (every thread, libvips' included), in nanoseconds.
    static func processCPUTime() -> UInt64 {
        var time = timespec()
        guard clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time) == 0 else { return 0 }
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
