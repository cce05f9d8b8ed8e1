import NIOCore

/// TASK_FAILED (worker → coordinator, on the task's stream; ends it):
/// `task_id u64 · attempt u16 · code u16 · permanent bool · message str`, then in protocol v2 the task's usage
/// (`cpu_ms u32 · source_pixels u64`). Permanent failures (an undecodable or
/// oversized image) fail the job at once; transient ones are retried with backoff.
public struct TaskFailed: WirePayload {
    public static let frameType = FrameType.taskFailed
    public var taskID: UInt64
    public var attempt: UInt16
    public var code: ErrorCode
    public var permanent: Bool
    public var message: String
    /// Present exactly on v2 connections.
    public var usage: TaskUsage?

    public init(
        taskID: UInt64, attempt: UInt16, code: ErrorCode, permanent: Bool, message: String, usage: TaskUsage? = nil
    ) {
        self.taskID = taskID
        self.attempt = attempt
        self.code = code
        self.permanent = permanent
        self.message = message
        self.usage = usage
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        taskID = try buffer.readField(UInt64.self, "task_id")
        attempt = try buffer.readField(UInt16.self, "attempt")
        code = ErrorCode(rawValue: try buffer.readField(UInt16.self, "code"))
        permanent = try buffer.readBool("permanent")
        message = try buffer.readWireString("message")
        usage = try TaskUsage.readIfPresent(from: &buffer)
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(taskID)
        buffer.writeInteger(attempt)
        buffer.writeInteger(code.rawValue)
        buffer.writeBool(permanent)
        buffer.writeWireString(message)
        usage?.write(to: &buffer)
    }
}
