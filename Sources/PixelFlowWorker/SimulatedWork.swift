import Foundation

/// What a null-engine task does before it answers: nothing, sleep, or burn CPU, for a fixed time. Sleeping tasks
/// measure the cluster's scheduling with more workers than the machine has cores (`bench/scaling.sh`); burning
/// ones measure a CPU-bound cluster.
public enum SimulatedWork: Sendable, Equatable {
    case none
    /// Waits this long without using the CPU (the task can be cancelled meanwhile).
    case sleep(Duration)
    /// Spins on the calling thread until it has used this much of its own CPU time.
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
            let start = Self.threadCPUTime()
            var spins = 0
            while Self.threadCPUTime() - start < duration {
                spins &+= 1
                if spins % 4096 == 0 { try Task.checkCancellation() }
            }
        }
    }

    private static func threadCPUTime() -> Duration {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec)
    }
}
