import NIOCore

/// ACCEPTED (coordinator → client, on the SUBMIT's stream): `job_id u64 · duplicate bool`.
/// `duplicate` is 1 when the idempotency key matched an earlier job, whose id this is.
public struct Accepted: WirePayload {
    public static let frameType = FrameType.accepted
    public var jobID: UInt64
    public var duplicate: Bool

    public init(jobID: UInt64, duplicate: Bool = false) {
        self.jobID = jobID
        self.duplicate = duplicate
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        jobID = try buffer.readField(UInt64.self, "job_id")
        duplicate = try buffer.readBool("duplicate")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(jobID)
        buffer.writeBool(duplicate)
    }
}
