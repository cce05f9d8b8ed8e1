import HeapModule
import NIOCore

/// Jobs due at a point in time (lease expiries, retry backoffs, queue deadlines), earliest first. Entries are
/// hints: each is checked against its job when it comes due, so a renewed lease or an ended job needs no removal
/// here (lazy deletion). O(log n) to schedule, O(log n) per entry taken.
struct Timeline: Sendable {
    struct Entry: Comparable, Sendable {
        var at: NIODeadline
        var job: JobID
        var attempt: UInt16

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.at, lhs.job, lhs.attempt) < (rhs.at, rhs.job, rhs.attempt)
        }
    }

    private var heap = Heap<Entry>()

    var count: Int { heap.count }

    mutating func schedule(_ job: JobID, attempt: UInt16 = 0, at time: NIODeadline) {
        heap.insert(Entry(at: time, job: job, attempt: attempt))
    }

    /// Drops the entries matching `predicate` (those of ended jobs), rebuilding the heap in one pass.
    mutating func removeAll(where predicate: (Entry) -> Bool) {
        heap = Heap(heap.unordered.filter { !predicate($0) })
    }

    /// Removes and returns the entries due at `now`, earliest first.
    mutating func takeDue(at now: NIODeadline) -> [Entry] {
        var due: [Entry] = []
        while let next = heap.min, next.at <= now {
            due.append(heap.removeMin())
        }
        return due
    }
}
