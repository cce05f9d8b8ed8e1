import Foundation
import Synchronization

/// What a null-engine task does before it answers: nothing, sleep, or burn CPU, for a fixed time. Sleeping tasks
/// measure the cluster's scheduling with more workers than the machine has cores (`bench/scaling.sh`); burning
/// ones measure a CPU-bound cluster.
public enum SimulatedWork: Sendable, Equatable {
    case none
    /// Waits this long without using the CPU (the task can be cancelled meanwhile).
    case sleep(Duration)
    /// Spins on a thread of its own until that thread has used this much CPU time (the task can be cancelled).
    case burnCPU(Duration)

    var burnsCPU: Bool {
        if case .burnCPU = self { true } else { false }
    }

    func perform() async throws {
        switch self {
        case .none:
            return
        case .sleep(let duration):
            try await Task.sleep(for: duration)
        case .burnCPU(let duration):
            try await Self.burnOnAThreadOfItsOwn(duration)
        }
    }

    /// Spins on a new thread, not a cooperative one: burning there would starve the worker's own tasks (its
    /// heartbeats among them) whenever more slots burn than the machine has cores.
    private static func burnOnAThreadOfItsOwn(_ duration: Duration) async throws {
        let stopped = StopFlag()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
                let thread = Thread {
                    let start = threadCPUTime()
                    var spins = 0
                    while threadCPUTime() - start < duration {
                        spins &+= 1
                        if spins % 1024 == 0, stopped.isSet {
                            return done.resume(throwing: CancellationError())
                        }
                    }
                    done.resume()
                }
                thread.start()
            }
        } onCancel: {
            stopped.set()
        }
    }

    private static func threadCPUTime() -> Duration {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec)
    }
}

/// Set once, read from another thread: how a cancelled task stops its burning thread.
private final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}
