import NIOCore

/// ASSIGN (coordinator → worker, on a new stream): one attempt at one job. The source follows as CHUNK frames.
/// `task_id u64 · attempt u16 · lease_ms u32 · time_limit_ms u32 · source_size u64 · pipeline blob`.
public struct Assign: WirePayload {
    public static let frameType = FrameType.assign
    /// The job id.
    public var taskID: UInt64
    /// 1 for the first attempt. Results carry it back; results of an older attempt are discarded (fencing).
    public var attempt: UInt16
    /// The lease lasts this long from the ASSIGN unless a HEARTBEAT renews it.
    public var leaseMilliseconds: UInt32
    /// The worker gives up on the task after this long and reports `timeout`.
    public var timeLimitMilliseconds: UInt32
    public var sourceSize: UInt64
    /// The validated pipeline, UTF-8 JSON as in SUBMIT.
    public var pipeline: ByteBuffer

    public init(
        taskID: UInt64, attempt: UInt16, leaseMilliseconds: UInt32, timeLimitMilliseconds: UInt32, sourceSize: UInt64,
        pipeline: ByteBuffer
    ) {
        self.taskID = taskID
        self.attempt = attempt
        self.leaseMilliseconds = leaseMilliseconds
        self.timeLimitMilliseconds = timeLimitMilliseconds
        self.sourceSize = sourceSize
        self.pipeline = pipeline
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        taskID = try buffer.readField(UInt64.self, "task_id")
        attempt = try buffer.readField(UInt16.self, "attempt")
        leaseMilliseconds = try buffer.readField(UInt32.self, "lease_ms")
        timeLimitMilliseconds = try buffer.readField(UInt32.self, "time_limit_ms")
        sourceSize = try buffer.readField(UInt64.self, "source_size")
        pipeline = try buffer.readBlob("pipeline")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(taskID)
        buffer.writeInteger(attempt)
        buffer.writeInteger(leaseMilliseconds)
        buffer.writeInteger(timeLimitMilliseconds)
        buffer.writeInteger(sourceSize)
        buffer.writeBlob(pipeline)
    }
}
