import DequeModule
import PixelFlowLocking

/// An asynchronous semaphore counted in bytes: `acquire` waits, in arrival order, until the bytes are free.
/// A request larger than the whole budget takes all of it, so it runs alone rather than never.
final class ByteBudget: Sendable {
    private struct State {
        var available: UInt64
        var waiters: Deque<(bytes: UInt64, continuation: CheckedContinuation<Void, Never>)> = []
    }

    let capacity: UInt64
    private let state: Locked<State>

    init(capacity: UInt64) {
        self.capacity = max(1, capacity)
        self.state = Locked(State(available: max(1, capacity)))
    }

    /// Waits for `bytes` (at most the capacity) and takes them; returns what was taken, to give back to `release`.
    func acquire(_ bytes: UInt64) async -> UInt64 {
        let wanted = min(max(bytes, 1), capacity)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                guard state.waiters.isEmpty, state.available >= wanted else {
                    state.waiters.append((wanted, continuation))
                    return false
                }
                state.available -= wanted
                return true
            }
            if granted { continuation.resume() }
        }
        return wanted
    }

    func release(_ bytes: UInt64) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.available = min(capacity, state.available + bytes)
            var ready: [CheckedContinuation<Void, Never>] = []
            while let first = state.waiters.first, first.bytes <= state.available {
                state.available -= first.bytes
                ready.append(state.waiters.removeFirst().continuation)
            }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// Bytes free now (for tests and metrics).
    var available: UInt64 { state.withLock { $0.available } }
}
