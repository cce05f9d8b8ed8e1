import NIOCore

/// JOB_DONE (coordinator → client, on the job's stream; ends it): `job_id u64 · variants u16 · attempts u16 · elapsed_ms u32`.
public struct JobDone: WirePayload {
    public static let frameType = FrameType.jobDone
    public var jobID: UInt64
    public var variants: UInt16
    public var attempts: UInt16
    /// From admission to the last variant.
    public var elapsedMilliseconds: UInt32

    public init(jobID: UInt64, variants: UInt16, attempts: UInt16, elapsedMilliseconds: UInt32) {
        self.jobID = jobID
        self.variants = variants
        self.attempts = attempts
        self.elapsedMilliseconds = elapsedMilliseconds
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        jobID = try buffer.readField(UInt64.self, "job_id")
        variants = try buffer.readField(UInt16.self, "variants")
        attempts = try buffer.readField(UInt16.self, "attempts")
        elapsedMilliseconds = try buffer.readField(UInt32.self, "elapsed_ms")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(jobID)
        buffer.writeInteger(variants)
        buffer.writeInteger(attempts)
        buffer.writeInteger(elapsedMilliseconds)
    }
}
