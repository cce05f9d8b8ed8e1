import Foundation

/// Memory held by decodes at once, across an engine's threads: what bounds a worker's peak memory.
///
/// A job takes its `DecodeFootprint` before decoding and gives it back in two steps (the full frame a loader
/// materialises when the decode ends, the in-memory base when the job ends). Jobs that do not fit wait their turn, first come
/// first served, on their own engine thread; a job larger than the whole budget runs alone. Small shrink-on-load
/// decodes (JPEG, WebP) fit beside a large HEIC; two large HEICs take turns.
final class DecodeBudget: @unchecked Sendable {
    /// A job's hold on the budget, given back by `release`.
    struct Share {
        fileprivate(set) var bytes: Int
    }

    let capacity: Int
    private let condition = NSCondition()
    private var held = 0
    /// Tickets of the waiting jobs, oldest first: a job that fits may not pass one that waits.
    private var queue: [UInt64] = []
    private var nextTicket: UInt64 = 0
    /// How often a waiting job looks at its deadline and cancellation.
    private let stopCheckInterval: TimeInterval = 0.02

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Takes `bytes` (at most the whole budget), waiting while other jobs hold too much of it.
    func acquire(_ bytes: Int, control: JobControl) throws(ImagingError) -> Share {
        let wanted = min(max(0, bytes), capacity)
        condition.lock()
        defer { condition.unlock() }
        if queue.isEmpty && held + wanted <= capacity {
            held += wanted
            return Share(bytes: wanted)
        }
        let ticket = nextTicket
        nextTicket &+= 1
        queue.append(ticket)
        defer {
            queue.removeAll { $0 == ticket }
            // The next in line may fit now, or a stopped job may have been in its way.
            condition.broadcast()
        }
        while queue.first != ticket || held + wanted > capacity {
            _ = condition.wait(until: Date(timeIntervalSinceNow: stopCheckInterval))
            try control.throwIfStopped()
        }
        held += wanted
        return Share(bytes: wanted)
    }

    /// Gives back up to `bytes` of `share` (all of it by default).
    func release(_ share: inout Share, bytes: Int = .max) {
        let amount = min(share.bytes, max(0, bytes))
        guard amount > 0 else { return }
        share.bytes -= amount
        condition.lock()
        held -= amount
        condition.broadcast()
        condition.unlock()
    }

    /// Bytes held now (for tests and diagnostics).
    var bytesHeld: Int {
        condition.lock()
        defer { condition.unlock() }
        return held
    }
}
