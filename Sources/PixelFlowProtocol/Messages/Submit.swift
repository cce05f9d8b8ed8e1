import NIOCore

/// SUBMIT (client → coordinator, on a new stream): a job. The source follows as CHUNK frames on the same
/// stream, `source_size` bytes in all, the last one flagged END.
/// `mode u8 · priority u8 · deadline_ms u32 · idempotency_key str · webhook_url str · source_size u64 · pipeline blob`.
public struct Submit: WirePayload {
    public static let frameType = FrameType.submit

    public enum Mode: UInt8, Sendable, Hashable {
        /// Variants and the outcome stream back on this stream as they are produced.
        case stream = 0
        /// Only ACCEPTED comes back; the outcome is read with STATUS or WATCH (or a webhook).
        case async = 1
    }

    public var mode: Mode
    /// 0 (lowest) … 255 (highest); 128 is normal.
    public var priority: UInt8
    /// Milliseconds from receipt after which the job is dropped unless already running; 0 = none.
    public var deadlineMilliseconds: UInt32
    /// Empty = none. A resubmission with the same key (per tenant) returns the first job.
    public var idempotencyKey: String
    /// Empty = none.
    public var webhookURL: String
    public var sourceSize: UInt64
    /// The pipeline as UTF-8 JSON: an array of variant objects (proto/PROTOCOL.md §6.3).
    public var pipeline: ByteBuffer

    public init(
        mode: Mode = .stream, priority: UInt8 = 128, deadlineMilliseconds: UInt32 = 0, idempotencyKey: String = "",
        webhookURL: String = "", sourceSize: UInt64, pipeline: ByteBuffer
    ) {
        self.mode = mode
        self.priority = priority
        self.deadlineMilliseconds = deadlineMilliseconds
        self.idempotencyKey = idempotencyKey
        self.webhookURL = webhookURL
        self.sourceSize = sourceSize
        self.pipeline = pipeline
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        let rawMode = try buffer.readField(UInt8.self, "mode")
        guard let mode = Mode(rawValue: rawMode) else {
            throw ProtocolError.malformed("mode is \(rawMode), must be 0 (stream) or 1 (async)")
        }
        self.mode = mode
        priority = try buffer.readField(UInt8.self, "priority")
        deadlineMilliseconds = try buffer.readField(UInt32.self, "deadline_ms")
        idempotencyKey = try buffer.readWireString("idempotency_key")
        webhookURL = try buffer.readWireString("webhook_url")
        sourceSize = try buffer.readField(UInt64.self, "source_size")
        pipeline = try buffer.readBlob("pipeline")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(mode.rawValue)
        buffer.writeInteger(priority)
        buffer.writeInteger(deadlineMilliseconds)
        buffer.writeWireString(idempotencyKey)
        buffer.writeWireString(webhookURL)
        buffer.writeInteger(sourceSize)
        buffer.writeBlob(pipeline)
    }
}
