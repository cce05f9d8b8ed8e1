/// A dictionary that remembers at most `capacity` keys, forgetting the oldest insertions first.
public struct RecentMap<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private var values: [Key: Value] = [:]
    private var order: [Key] = []
    private var head = 0
    public let capacity: Int

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    public subscript(key: Key) -> Value? { values[key] }

    public var count: Int { values.count }

    /// Forgets a key (its slot in the eviction order is skipped when reached).
    public mutating func remove(_ key: Key) {
        values[key] = nil
    }

    /// Changes a remembered value in place (one lookup, no copy); nothing when the key is not remembered.
    public mutating func update(_ key: Key, _ change: (inout Value) -> Void) {
        guard let index = values.index(forKey: key) else { return }
        change(&values.values[index])
    }

    public mutating func insert(_ value: Value, for key: Key) {
        if values.updateValue(value, forKey: key) == nil { order.append(key) }
        while values.count > capacity {
            values[order[head]] = nil
            head += 1
        }
        if order.count > 2 * capacity + 1024 {  // removals leave stale keys in the order: drop them
            order = order[head...].filter { values[$0] != nil }
            head = 0
        }
        if head > 1024 && head * 2 > order.count {  // drop forgotten keys from the front now and then
            order.removeFirst(head)
            head = 0
        }
    }
}
