import NIOCore

/// HEARTBEAT (worker → coordinator, stream 0): `free_slots u16 · count u16`, then per held task
/// `task_id u64 · attempt u16`. Renews the lease of every listed task; `free_slots` is the worker's credit.
public struct Heartbeat: WirePayload {
    public static let frameType = FrameType.heartbeat

    public struct HeldTask: Sendable, Hashable {
        public var taskID: UInt64
        public var attempt: UInt16
        public init(taskID: UInt64, attempt: UInt16) {
            self.taskID = taskID
            self.attempt = attempt
        }
    }

    public var freeSlots: UInt16
    public var tasks: [HeldTask]

    public init(freeSlots: UInt16, tasks: [HeldTask]) {
        self.freeSlots = freeSlots
        self.tasks = tasks
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        freeSlots = try buffer.readField(UInt16.self, "free_slots")
        let count = try buffer.readField(UInt16.self, "count")
        var tasks: [HeldTask] = []
        tasks.reserveCapacity(min(Int(count), buffer.readableBytes / 10))
        for index in 0..<Int(count) {
            tasks.append(
                HeldTask(
                    taskID: try buffer.readField(UInt64.self, "tasks[\(index)].task_id"),
                    attempt: try buffer.readField(UInt16.self, "tasks[\(index)].attempt")))
        }
        self.tasks = tasks
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(freeSlots)
        buffer.writeInteger(UInt16(clamping: tasks.count))
        for task in tasks.prefix(Int(UInt16.max)) {
            buffer.writeInteger(task.taskID)
            buffer.writeInteger(task.attempt)
        }
    }
}
