import NIOCore

/// CANCEL_TASK (coordinator → worker, on the task's stream): `task_id u64 · attempt u16`. The worker stops the
/// task as soon as it can and answers TASK_FAILED(cancelled), unless it already finished it.
public struct CancelTask: WirePayload {
    public static let frameType = FrameType.cancelTask
    public var taskID: UInt64
    public var attempt: UInt16

    public init(taskID: UInt64, attempt: UInt16) {
        self.taskID = taskID
        self.attempt = attempt
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        taskID = try buffer.readField(UInt64.self, "task_id")
        attempt = try buffer.readField(UInt16.self, "attempt")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(taskID)
        buffer.writeInteger(attempt)
    }
}
