/// Jobs waiting for a worker: one queue per tenant, served round robin so a busy tenant cannot starve a quiet
/// one; within a tenant, higher priority first, then first come first served. Pure and bounded by the caller.
public struct FairQueue<Item: Sendable>: Sendable {
    private struct Entry: Sendable {
        var priority: UInt8
        var sequence: Int64
        var item: Item
    }

    private var queues: [String: [Entry]] = [:]
    /// Tenants with waiting items, in the order they will be served.
    private var rotation: [String] = []
    private var nextSequence: Int64 = 0
    public private(set) var count = 0

    public init() {}

    public func count(for tenant: String) -> Int { queues[tenant]?.count ?? 0 }

    public var isEmpty: Bool { count == 0 }

    /// Adds an item behind the tenant's items of the same or higher priority.
    public mutating func enqueue(_ item: Item, tenant: String, priority: UInt8) {
        insert(Entry(priority: priority, sequence: nextSequence, item: item), tenant: tenant)
        nextSequence += 1
    }

    /// Puts an item back in front of its tenant's items of the same priority (a job whose worker died keeps its turn).
    public mutating func requeueAtFront(_ item: Item, tenant: String, priority: UInt8) {
        let first = queues[tenant]?.map(\.sequence).min() ?? nextSequence
        insert(Entry(priority: priority, sequence: first - 1, item: item), tenant: tenant)
    }

    /// The next item, taking tenants in turn.
    public mutating func dequeue() -> (tenant: String, item: Item)? {
        guard !rotation.isEmpty else { return nil }
        let tenant = rotation.removeFirst()
        guard var queue = queues[tenant], !queue.isEmpty else { return dequeue() }  // never: rotation lists tenants with items
        let entry = queue.removeFirst()
        if queue.isEmpty {
            queues[tenant] = nil
        } else {
            queues[tenant] = queue
            rotation.append(tenant)
        }
        count -= 1
        return (tenant, entry.item)
    }

    /// Removes the items matching `predicate` (cancelled or expired jobs) and returns them.
    public mutating func removeAll(where predicate: (Item) -> Bool) -> [Item] {
        var removed: [Item] = []
        for (tenant, queue) in queues {
            let kept = queue.filter { !predicate($0.item) }
            guard kept.count != queue.count else { continue }
            removed += queue.filter { predicate($0.item) }.map(\.item)
            count -= queue.count - kept.count
            if kept.isEmpty {
                queues[tenant] = nil
                rotation.removeAll { $0 == tenant }
            } else {
                queues[tenant] = kept
            }
        }
        return removed
    }

    private mutating func insert(_ entry: Entry, tenant: String) {
        var queue = queues[tenant] ?? []
        let index = queue.firstIndex { $0.priority < entry.priority || ($0.priority == entry.priority && $0.sequence > entry.sequence) } ?? queue.count
        queue.insert(entry, at: index)
        if queues[tenant] == nil { rotation.append(tenant) }
        queues[tenant] = queue
        count += 1
    }
}
