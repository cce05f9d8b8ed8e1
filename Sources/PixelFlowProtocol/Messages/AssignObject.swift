import NIOCore

/// ASSIGN_OBJECT (coordinator → worker, on a new stream; v2, to workers whose REGISTER set the `objects` bit): one
/// attempt at a job whose source and results live in an object store. No CHUNKs follow: the worker GETs the source
/// from `sourceURL` and PUTs each variant to its output's URL, then tells the coordinator with VARIANT_STORED.
/// `task_id u64 · attempt u16 · lease_ms u32 · time_limit_ms u32 · source_size u64 · source_url str ·
/// pipeline blob · output_count u16 · output_count × (variant_id str · put_url str)`.
public struct AssignObject: WirePayload {
    public static let frameType = FrameType.assignObject

    /// Where one variant goes: a URL the worker PUTs its encoded bytes to.
    public struct Output: Sendable, Hashable {
        public var variantID: String
        public var putURL: String

        public init(variantID: String, putURL: String) {
            self.variantID = variantID
            self.putURL = putURL
        }
    }

    public var taskID: UInt64
    public var attempt: UInt16
    public var leaseMilliseconds: UInt32
    public var timeLimitMilliseconds: UInt32
    /// The source object's exact length: the worker refuses more (and less).
    public var sourceSize: UInt64
    /// A URL the worker GETs the source from (a presigned GET).
    public var sourceURL: String
    /// The validated pipeline, UTF-8 JSON as in SUBMIT.
    public var pipeline: ByteBuffer
    /// One per variant of the pipeline.
    public var outputs: [Output]

    public init(
        taskID: UInt64, attempt: UInt16, leaseMilliseconds: UInt32, timeLimitMilliseconds: UInt32, sourceSize: UInt64,
        sourceURL: String, pipeline: ByteBuffer, outputs: [Output]
    ) {
        self.taskID = taskID
        self.attempt = attempt
        self.leaseMilliseconds = leaseMilliseconds
        self.timeLimitMilliseconds = timeLimitMilliseconds
        self.sourceSize = sourceSize
        self.sourceURL = sourceURL
        self.pipeline = pipeline
        self.outputs = outputs
    }

    /// The ASSIGN fields, for the checks and bookkeeping both kinds of task share.
    public var assign: Assign {
        Assign(
            taskID: taskID, attempt: attempt, leaseMilliseconds: leaseMilliseconds,
            timeLimitMilliseconds: timeLimitMilliseconds, sourceSize: sourceSize, pipeline: pipeline)
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        taskID = try buffer.readField(UInt64.self, "task_id")
        attempt = try buffer.readField(UInt16.self, "attempt")
        leaseMilliseconds = try buffer.readField(UInt32.self, "lease_ms")
        timeLimitMilliseconds = try buffer.readField(UInt32.self, "time_limit_ms")
        sourceSize = try buffer.readField(UInt64.self, "source_size")
        sourceURL = try buffer.readWireString("source_url")
        pipeline = try buffer.readBlob("pipeline")
        let count = try buffer.readField(UInt16.self, "output_count")
        outputs = []
        outputs.reserveCapacity(Int(count))
        for _ in 0..<count {
            outputs.append(
                Output(variantID: try buffer.readWireString("variant_id"), putURL: try buffer.readWireString("put_url"))
            )
        }
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(taskID)
        buffer.writeInteger(attempt)
        buffer.writeInteger(leaseMilliseconds)
        buffer.writeInteger(timeLimitMilliseconds)
        buffer.writeInteger(sourceSize)
        buffer.writeWireString(sourceURL)
        buffer.writeBlob(pipeline)
        buffer.writeInteger(UInt16(clamping: outputs.count))
        for output in outputs.prefix(Int(UInt16.max)) {
            buffer.writeWireString(output.variantID)
            buffer.writeWireString(output.putURL)
        }
    }
}

/// VARIANT_STORED (worker → coordinator, on an ASSIGN_OBJECT task's stream; v2): one variant was encoded and PUT to
/// its output URL. The payload is VARIANT's, field for field; no CHUNKs follow.
public struct VariantStored: WirePayload {
    public static let frameType = FrameType.variantStored
    public var header: VariantHeader

    public init(_ header: VariantHeader) { self.header = header }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        header = try VariantHeader(from: &buffer)
    }

    public func write(to buffer: inout ByteBuffer) { header.write(to: &buffer) }
}
