import NIOCore

/// JOB_FAILED (coordinator → client, on the job's stream; ends it): `job_id u64 · code u16 · attempts u16 · message str`.
public struct JobFailed: WirePayload {
    public static let frameType = FrameType.jobFailed
    public var jobID: UInt64
    public var code: ErrorCode
    public var attempts: UInt16
    public var message: String

    public init(jobID: UInt64, code: ErrorCode, attempts: UInt16, message: String) {
        self.jobID = jobID
        self.code = code
        self.attempts = attempts
        self.message = message
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        jobID = try buffer.readField(UInt64.self, "job_id")
        code = ErrorCode(rawValue: try buffer.readField(UInt16.self, "code"))
        attempts = try buffer.readField(UInt16.self, "attempts")
        message = try buffer.readWireString("message")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(jobID)
        buffer.writeInteger(code.rawValue)
        buffer.writeInteger(attempts)
        buffer.writeWireString(message)
    }
}
