import NIOCore

/// A client request about one job, whose payload is just `job_id u64`.
public protocol JobIDRequest: WirePayload {
    var jobID: UInt64 { get }
    init(jobID: UInt64)
}

extension JobIDRequest {
    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        self.init(jobID: try buffer.readField(UInt64.self, "job_id"))
    }

    public func write(to buffer: inout ByteBuffer) { buffer.writeInteger(jobID) }
}

/// CANCEL (client → coordinator, new stream): `job_id u64`. Answered by STATUS on the same stream.
public struct Cancel: JobIDRequest {
    public static let frameType = FrameType.cancel
    public var jobID: UInt64
    public init(jobID: UInt64) { self.jobID = jobID }
}

/// STATUS_REQUEST (client → coordinator, new stream): `job_id u64`. Answered by STATUS or REJECTED(not_found).
public struct StatusRequest: JobIDRequest {
    public static let frameType = FrameType.statusRequest
    public var jobID: UInt64
    public init(jobID: UInt64) { self.jobID = jobID }
}

/// WATCH (client → coordinator, new stream): `job_id u64`. Answered by JOB_DONE or JOB_FAILED when the job
/// ends (at once if it already has), or REJECTED(not_found).
public struct Watch: JobIDRequest {
    public static let frameType = FrameType.watch
    public var jobID: UInt64
    public init(jobID: UInt64) { self.jobID = jobID }
}

/// FETCH (client → coordinator, new stream; protocol v2): `job_id u64`. Answered, once the job has ended, by
/// every variant it stored (VARIANT + CHUNKs each) and then its JOB_DONE or JOB_FAILED; or by REJECTED
/// (`not_found`, `storage_error`).
public struct Fetch: JobIDRequest {
    public static let frameType = FrameType.fetch
    public var jobID: UInt64
    public init(jobID: UInt64) { self.jobID = jobID }
}

/// WORKERS_REQUEST (client → coordinator, new stream): no fields. Answered by WORKERS.
public struct WorkersRequest: EmptyWirePayload {
    public static let frameType = FrameType.workersRequest
    public init() {}
}

/// STATS_REQUEST (client → coordinator, new stream): no fields. Answered by STATS.
public struct StatsRequest: EmptyWirePayload {
    public static let frameType = FrameType.statsRequest
    public init() {}
}
