import NIOCore

/// STATUS (coordinator → client): where a job stands.
/// `job_id u64 · state u8 · attempts u16 · variants_done u16 · code u16 · message str` (code 0 unless failed).
public struct JobStatus: WirePayload {
    public static let frameType = FrameType.status

    public enum State: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        case queued = 0
        case running = 1
        case succeeded = 2
        case failed = 3
        case cancelled = 4

        public var description: String {
            switch self {
            case .queued: "queued"
            case .running: "running"
            case .succeeded: "succeeded"
            case .failed: "failed"
            case .cancelled: "cancelled"
            }
        }

        public var isTerminal: Bool {
            switch self {
            case .queued, .running: false
            case .succeeded, .failed, .cancelled: true
            }
        }
    }

    public var jobID: UInt64
    public var state: State
    public var attempts: UInt16
    public var variantsDone: UInt16
    public var code: ErrorCode
    public var message: String

    public init(
        jobID: UInt64, state: State, attempts: UInt16, variantsDone: UInt16, code: ErrorCode = .none,
        message: String = ""
    ) {
        self.jobID = jobID
        self.state = state
        self.attempts = attempts
        self.variantsDone = variantsDone
        self.code = code
        self.message = message
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        jobID = try buffer.readField(UInt64.self, "job_id")
        let rawState = try buffer.readField(UInt8.self, "state")
        guard let state = State(rawValue: rawState) else {
            throw ProtocolError.malformed("state is \(rawState), must be 0...4")
        }
        self.state = state
        attempts = try buffer.readField(UInt16.self, "attempts")
        variantsDone = try buffer.readField(UInt16.self, "variants_done")
        code = ErrorCode(rawValue: try buffer.readField(UInt16.self, "code"))
        message = try buffer.readWireString("message")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(jobID)
        buffer.writeInteger(state.rawValue)
        buffer.writeInteger(attempts)
        buffer.writeInteger(variantsDone)
        buffer.writeInteger(code.rawValue)
        buffer.writeWireString(message)
    }
}
