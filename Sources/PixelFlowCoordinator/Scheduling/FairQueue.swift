import DequeModule

/// Jobs waiting for a worker: one queue per tenant, served round robin so a busy tenant cannot starve a quiet
/// one; within a tenant, higher priority first, then first come first served. Enqueue, requeue and dequeue are
/// O(1) (a FIFO per priority in use, a rotation of tenants). Pure and bounded by the caller.
public struct FairQueue<Item: Sendable>: Sendable {
    /// One tenant's items: a FIFO lane per priority, the highest priority served first.
    private struct TenantQueue: Sendable {
        var lanes: [UInt8: Deque<Item>] = [:]
        /// Priorities that have items, highest first: a handful at most in practice.
        var priorities: [UInt8] = []
        var count = 0

        mutating func push(_ item: Item, priority: UInt8, atFront: Bool) {
            if lanes[priority] == nil {
                priorities.insert(priority, at: priorities.firstIndex { $0 < priority } ?? priorities.count)
            }
            if atFront {
                lanes[priority, default: []].prepend(item)
            } else {
                lanes[priority, default: []].append(item)
            }
            count += 1
        }

        mutating func pop() -> Item? {
            guard let top = priorities.first, let item = lanes[top]?.popFirst() else { return nil }
            if lanes[top]?.isEmpty ?? true {
                lanes[top] = nil
                priorities.removeFirst()
            }
            count -= 1
            return item
        }

        mutating func removeAll(where predicate: (Item) -> Bool) -> [Item] {
            var removed: [Item] = []
            for (priority, lane) in lanes {
                let kept = lane.filter { !predicate($0) }
                guard kept.count != lane.count else { continue }
                removed += lane.filter(predicate)
                lanes[priority] = kept.isEmpty ? nil : Deque(kept)
            }
            priorities.removeAll { lanes[$0] == nil }
            count -= removed.count
            return removed
        }
    }

    private var tenants: [String: TenantQueue] = [:]
    /// Tenants with waiting items, in the order they will be served.
    private var rotation = Deque<String>()
    public private(set) var count = 0

    public init() {}

    public func count(for tenant: String) -> Int { tenants[tenant]?.count ?? 0 }

    public var isEmpty: Bool { count == 0 }

    /// Adds an item behind the tenant's items of the same or higher priority.
    public mutating func enqueue(_ item: Item, tenant: String, priority: UInt8) {
        push(item, tenant: tenant, priority: priority, atFront: false)
    }

    /// Puts an item back in front of its tenant's items of the same priority (a job whose worker died keeps its turn).
    public mutating func requeueAtFront(_ item: Item, tenant: String, priority: UInt8) {
        push(item, tenant: tenant, priority: priority, atFront: true)
    }

    /// The next item, taking tenants in turn.
    public mutating func dequeue() -> (tenant: String, item: Item)? {
        while let tenant = rotation.popFirst() {
            guard var queue = tenants.removeValue(forKey: tenant), let item = queue.pop() else { continue }
            if queue.count > 0 {
                tenants[tenant] = queue
                rotation.append(tenant)
            }
            count -= 1
            return (tenant, item)
        }
        return nil
    }

    /// Removes the items matching `predicate` and returns them. O(n): for maintenance, not the hot path.
    public mutating func removeAll(where predicate: (Item) -> Bool) -> [Item] {
        var removed: [Item] = []
        for (tenant, var queue) in tenants {
            let gone = queue.removeAll(where: predicate)
            guard !gone.isEmpty else { continue }
            removed += gone
            tenants[tenant] = queue.count > 0 ? queue : nil
        }
        rotation.removeAll { tenants[$0] == nil }
        count -= removed.count
        return removed
    }

    private mutating func push(_ item: Item, tenant: String, priority: UInt8, atFront: Bool) {
        if tenants[tenant] == nil { rotation.append(tenant) }
        tenants[tenant, default: TenantQueue()].push(item, priority: priority, atFront: atFront)
        count += 1
    }
}
