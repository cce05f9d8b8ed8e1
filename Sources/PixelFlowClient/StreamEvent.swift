import PixelFlowProtocol

/// The kind of request a client stream carries, which decides the answers it accepts (PROTOCOL.md §10.2).
enum RequestKind: Sendable, Hashable, CustomStringConvertible {
    /// SUBMIT mode 0: ACCEPTED, then VARIANTs with their chunks, then JOB_DONE or JOB_FAILED.
    case submitStream
    /// SUBMIT mode 1: ACCEPTED closes the stream.
    case submitAsync
    case status
    case cancel
    case watch
    /// FETCH (protocol v2): the stored VARIANTs with their chunks, then JOB_DONE or JOB_FAILED.
    case fetch
    /// JOBS_REQUEST (protocol v2): one JOB_LIST.
    case jobs
    /// USAGE_REQUEST (protocol v2): one USAGE.
    case usage
    case workers
    case stats

    var description: String {
        switch self {
        case .submitStream: "SUBMIT"
        case .submitAsync: "SUBMIT (async)"
        case .status: "STATUS_REQUEST"
        case .cancel: "CANCEL"
        case .watch: "WATCH"
        case .fetch: "FETCH"
        case .jobs: "JOBS_REQUEST"
        case .usage: "USAGE_REQUEST"
        case .workers: "WORKERS_REQUEST"
        case .stats: "STATS_REQUEST"
        }
    }
}

/// What the inbound loop delivers to the request waiting on a stream, after reassembling chunks.
enum StreamEvent: Sendable {
    case accepted(Accepted)
    case variant(Variant)
    case jobDone(JobDone)
    case status(JobStatus)
    case workers(WorkerList)
    case stats(Stats)
    case jobList(JobList)
    case usage(UsageReport)
}

/// Where a stream's events go. Failures (REJECTED, JOB_FAILED, connection loss) finish it with a
/// `PixelFlowClientError`.
typealias StreamSink = AsyncThrowingStream<StreamEvent, any Error>.Continuation
