import NIOCore

/// VARIANT (worker → coordinator on the task's stream; coordinator → client on the job's stream): one encoded
/// variant, whose `size` bytes follow as CHUNK frames, the last flagged END, before any other VARIANT on that stream.
/// `job_id u64 · attempt u16 · variant_id str · format str · width u32 · height u32 · size u64 · elapsed_ms u32`.
public struct VariantHeader: WirePayload {
    public static let frameType = FrameType.variant
    public var jobID: UInt64
    public var attempt: UInt16
    public var variantID: String
    /// `jpeg`, `png`, `webp`, `avif`, `heic` or `gif`.
    public var format: String
    public var width: UInt32
    public var height: UInt32
    public var size: UInt64
    /// Time the worker spent producing this variant.
    public var elapsedMilliseconds: UInt32

    public init(
        jobID: UInt64, attempt: UInt16, variantID: String, format: String, width: UInt32, height: UInt32,
        size: UInt64, elapsedMilliseconds: UInt32
    ) {
        self.jobID = jobID
        self.attempt = attempt
        self.variantID = variantID
        self.format = format
        self.width = width
        self.height = height
        self.size = size
        self.elapsedMilliseconds = elapsedMilliseconds
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        jobID = try buffer.readField(UInt64.self, "job_id")
        attempt = try buffer.readField(UInt16.self, "attempt")
        variantID = try buffer.readWireString("variant_id")
        format = try buffer.readWireString("format")
        width = try buffer.readField(UInt32.self, "width")
        height = try buffer.readField(UInt32.self, "height")
        size = try buffer.readField(UInt64.self, "size")
        elapsedMilliseconds = try buffer.readField(UInt32.self, "elapsed_ms")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(jobID)
        buffer.writeInteger(attempt)
        buffer.writeWireString(variantID)
        buffer.writeWireString(format)
        buffer.writeInteger(width)
        buffer.writeInteger(height)
        buffer.writeInteger(size)
        buffer.writeInteger(elapsedMilliseconds)
    }
}
