/// A dictionary that remembers at most `capacity` keys, forgetting the oldest insertions first.
public struct RecentMap<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private var values: [Key: Value] = [:]
    private var order: [Key] = []
    private var head = 0
    public let capacity: Int

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    public subscript(key: Key) -> Value? { values[key] }

    public var count: Int { values.count }

    public mutating func insert(_ value: Value, for key: Key) {
        if values.updateValue(value, forKey: key) == nil { order.append(key) }
        while values.count > capacity {
            values[order[head]] = nil
            head += 1
        }
        if head > 1024 && head * 2 > order.count {  // drop forgotten keys from the front now and then
            order.removeFirst(head)
            head = 0
        }
    }
}
