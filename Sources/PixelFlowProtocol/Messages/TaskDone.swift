import NIOCore

/// TASK_DONE (worker → coordinator, on the task's stream; ends it): `task_id u64 · attempt u16 · variants u16 ·
/// elapsed_ms u32`, then in protocol v2 the task's usage (`cpu_ms u32 · source_pixels u64`) and, from a worker whose
/// REGISTER set the `timings` bit, `decode_ms u32`.
public struct TaskDone: WirePayload {
    public static let frameType = FrameType.taskDone
    public var taskID: UInt64
    public var attempt: UInt16
    public var variants: UInt16
    public var elapsedMilliseconds: UInt32
    /// Present exactly on v2 connections.
    public var usage: TaskUsage?
    /// The source's decode on the worker, in ms. Present exactly on v2 connections of workers with the `timings`
    /// bit (after `usage`).
    public var decodeMilliseconds: UInt32?

    public init(
        taskID: UInt64, attempt: UInt16, variants: UInt16, elapsedMilliseconds: UInt32, usage: TaskUsage? = nil,
        decodeMilliseconds: UInt32? = nil
    ) {
        self.taskID = taskID
        self.attempt = attempt
        self.variants = variants
        self.elapsedMilliseconds = elapsedMilliseconds
        self.usage = usage
        self.decodeMilliseconds = decodeMilliseconds
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        taskID = try buffer.readField(UInt64.self, "task_id")
        attempt = try buffer.readField(UInt16.self, "attempt")
        variants = try buffer.readField(UInt16.self, "variants")
        elapsedMilliseconds = try buffer.readField(UInt32.self, "elapsed_ms")
        usage = try TaskUsage.readIfPresent(from: &buffer)
        decodeMilliseconds = buffer.readableBytes > 0 ? try buffer.readField(UInt32.self, "decode_ms") : nil
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(taskID)
        buffer.writeInteger(attempt)
        buffer.writeInteger(variants)
        buffer.writeInteger(elapsedMilliseconds)
        usage?.write(to: &buffer)
        if let decodeMilliseconds { buffer.writeInteger(decodeMilliseconds) }
    }
}
