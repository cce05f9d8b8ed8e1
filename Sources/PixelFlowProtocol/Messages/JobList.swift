import NIOCore

/// JOBS_REQUEST (client → coordinator, new stream; protocol v2): the tenant's stored jobs, newest first, a page at a
/// time. `state u8` (0–4 as STATUS, 255 = any) · `limit u16` (1…200) · `before_job_id u64` (0 = from the newest;
/// otherwise only jobs with a smaller id: the previous page's `next_before_job_id`). Answered by JOB_LIST.
public struct JobsRequest: WirePayload {
    public static let frameType = FrameType.jobsRequest
    public static let anyState: UInt8 = 255
    public static let maxLimit: UInt16 = 200

    /// Nil for every state.
    public var state: JobStatus.State?
    public var limit: UInt16
    public var beforeJobID: UInt64

    public init(state: JobStatus.State? = nil, limit: UInt16 = 50, beforeJobID: UInt64 = 0) {
        self.state = state
        self.limit = limit
        self.beforeJobID = beforeJobID
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        let rawState = try buffer.readField(UInt8.self, "state")
        if rawState == Self.anyState {
            state = nil
        } else {
            guard let state = JobStatus.State(rawValue: rawState) else {
                throw ProtocolError.malformed("state is \(rawState), must be 0…4 or 255 (any)")
            }
            self.state = state
        }
        limit = try buffer.readField(UInt16.self, "limit")
        guard (1...Self.maxLimit).contains(limit) else {
            throw ProtocolError.malformed("limit is \(limit), must be 1…\(Self.maxLimit)")
        }
        beforeJobID = try buffer.readField(UInt64.self, "before_job_id")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(state?.rawValue ?? Self.anyState)
        buffer.writeInteger(limit)
        buffer.writeInteger(beforeJobID)
    }
}

/// JOB_LIST (coordinator → client; protocol v2): `next_before_job_id u64` (0 = no more) · `count u16`, then per
/// job `job_id u64 · tenant str · state u8 · attempts u16 · variants u16 · code u16 · admitted_at_ms u64 ·
/// ended_at_ms u64 (0 = not ended) · message str`. Times are Unix milliseconds.
public struct JobList: WirePayload {
    public static let frameType = FrameType.jobList

    public struct Job: Sendable, Hashable {
        public var jobID: UInt64
        public var tenant: String
        public var state: JobStatus.State
        public var attempts: UInt16
        public var variants: UInt16
        public var code: ErrorCode
        public var admittedAt: UInt64
        public var endedAt: UInt64
        public var message: String

        public init(
            jobID: UInt64, tenant: String, state: JobStatus.State, attempts: UInt16, variants: UInt16,
            code: ErrorCode = .none, admittedAt: UInt64, endedAt: UInt64 = 0, message: String = ""
        ) {
            self.jobID = jobID
            self.tenant = tenant
            self.state = state
            self.attempts = attempts
            self.variants = variants
            self.code = code
            self.admittedAt = admittedAt
            self.endedAt = endedAt
            self.message = message
        }
    }

    public var nextBeforeJobID: UInt64
    public var jobs: [Job]

    public init(jobs: [Job], nextBeforeJobID: UInt64 = 0) {
        self.jobs = jobs
        self.nextBeforeJobID = nextBeforeJobID
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        nextBeforeJobID = try buffer.readField(UInt64.self, "next_before_job_id")
        let count = try buffer.readField(UInt16.self, "count")
        var jobs: [Job] = []
        for index in 0..<Int(count) {
            let id = try buffer.readField(UInt64.self, "jobs[\(index)].job_id")
            let tenant = try buffer.readWireString("jobs[\(index)].tenant")
            let rawState = try buffer.readField(UInt8.self, "jobs[\(index)].state")
            guard let state = JobStatus.State(rawValue: rawState) else {
                throw ProtocolError.malformed("jobs[\(index)].state is \(rawState), must be 0…4")
            }
            jobs.append(
                Job(
                    jobID: id, tenant: tenant, state: state,
                    attempts: try buffer.readField(UInt16.self, "jobs[\(index)].attempts"),
                    variants: try buffer.readField(UInt16.self, "jobs[\(index)].variants"),
                    code: ErrorCode(rawValue: try buffer.readField(UInt16.self, "jobs[\(index)].code")),
                    admittedAt: try buffer.readField(UInt64.self, "jobs[\(index)].admitted_at_ms"),
                    endedAt: try buffer.readField(UInt64.self, "jobs[\(index)].ended_at_ms"),
                    message: try buffer.readWireString("jobs[\(index)].message")))
        }
        self.jobs = jobs
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(nextBeforeJobID)
        buffer.writeInteger(UInt16(clamping: jobs.count))
        for job in jobs.prefix(Int(UInt16.max)) {
            buffer.writeInteger(job.jobID)
            buffer.writeWireString(job.tenant)
            buffer.writeInteger(job.state.rawValue)
            buffer.writeInteger(job.attempts)
            buffer.writeInteger(job.variants)
            buffer.writeInteger(job.code.rawValue)
            buffer.writeInteger(job.admittedAt)
            buffer.writeInteger(job.endedAt)
            buffer.writeWireString(job.message)
        }
    }
}
