import NIOCore
import PixelFlowProtocol
import PixelFlowStore

/// What a connection's state machine asks its channel handler to do. The handler runs these in order and
/// decides nothing of its own.
enum ConnectionAction {
    /// Write to the peer; flushed at the end of the read, of the delivery or of the housekeeping round.
    case write(WireElement)
    /// A message and then payload chunks on one stream: a VARIANT to a client, an ASSIGN to a worker.
    case writeWithChunks(stream: UInt32, Message, [Chunk])
    /// The handshake succeeded: write AUTH_OK, stop the handshake deadline, start the housekeeping timer.
    case established(reply: WireElement)
    /// The handshake failed: write these (possibly nothing), then close.
    case refuse(ProtocolError, send: [WireElement])
    /// Send GOAWAY with this error, then close.
    case fail(ProtocolError)
    /// Close without a word: the peer said GOAWAY, or the coordinator's own GOAWAY was already written.
    case close
    /// Backpressure: stop reading the peer's requests; resume, moving the partial-frame clock by the pause.
    case pauseReading
    case resumeReading(pausedFor: TimeAmount)
    /// Ask the shared coordinator. Requests with an answer get it back through `clusterReplied(_:now:)`.
    case cluster(ClusterRequest)
    /// Read a job's stored variants and outcome (off the event loop), a variant at a time: each comes back through
    /// `storedVariantRead(_:on:_:_:)`, the end through `storedResultEnded(_:on:_:)`.
    case readStoredResult(stream: UInt32, JobID, tenant: String)
    /// Answer a question about what the store keeps (off the event loop); the answer comes back through
    /// `storeQueryAnswered(on:_:)`.
    case queryStore(stream: UInt32, StoreQuery, tenant: String)
}

/// A client's request answered from the job store: one frame back, or REJECTED.
enum StoreQuery: Sendable, Hashable {
    /// JOBS_REQUEST: a page of stored jobs, answered by JOB_LIST.
    case jobs(JobsRequest)
    /// USAGE_REQUEST: a page of metered usage, answered by USAGE.
    case usage(UsageRequest)
}

extension ConnectionAction {
    /// The answer to a PING, on either link.
    static func pong(_ ping: Ping) -> ConnectionAction {
        .write(.frame(Frame(.pong(Pong(opaque: ping.opaque)))))
    }
}

/// What a connection asks of the shared coordinator: a state transition of the cluster, or a question about it.
/// The coordinator knows which connection asks, so requests carry streams, never connection ids.
enum ClusterRequest {
    // Handshake
    /// → `.loginWait`: may this peer's address try a login now?
    case loginAllowed
    case loginSucceeded
    case loginFailed

    // Client link
    /// → `.admission`
    case admit(AdmissionRequest)
    /// → `.sourceStored`: the job is queued (or stored, if async on a durable coordinator) if still live, in the
    /// same step as the check. `bytes`: the whole source, which `source` slices.
    case sourceComplete(
        stream: UInt32, job: JobID, source: [Chunk], bytes: ByteBuffer, digest: [UInt8]?, isStreamMode: Bool)
    /// → `.jobStatus`
    case cancel(JobID, tenant: String, stream: UInt32)
    /// → `.jobStatus`
    case status(JobID, tenant: String, stream: UInt32)
    /// → `.watch`
    case watch(JobID, tenant: String, stream: UInt32)
    /// → `.fetch`
    case fetch(JobID, tenant: String, stream: UInt32)
    /// → `.workers`
    case workers(tenant: String, stream: UInt32)
    /// → `.stats`
    case stats(tenant: String, stream: UInt32)
    /// The upload on `stream` stopped: the job ends without notifying that stream.
    case abandonUpload(JobID, stream: UInt32, reason: String)
    case clientCongested(Bool)
    case clientClosed(unfinishedUploads: [JobID])

    // Worker link
    /// → `.registered`
    case registerWorker(Register)
    case heartbeat(WorkerID, Heartbeat)
    /// A whole variant arrived from a worker: relay it to the job's subscribers unless fenced off.
    case variantReceived(WorkerID, VariantHeader, chunks: [Chunk])
    /// A worker stored a variant in the object store itself (ASSIGN_OBJECT): record it unless fenced off.
    case variantStored(WorkerID, VariantHeader)
    case taskDone(WorkerID, TaskDone)
    case taskFailed(WorkerID, TaskFailed)
    case drainWorker(WorkerID)
    case workerCongested(WorkerID, Bool)
    case workerClosed(WorkerID)
}

/// A SUBMIT that passed the connection's own checks, on its way to the cluster's admission.
struct AdmissionRequest {
    var stream: UInt32
    var tenant: String
    var submit: Submit
    var pipeline: PipelineSummary
}

/// The coordinator's answer to a `ClusterRequest`.
enum ClusterReply {
    case loginWait(TimeAmount?)
    case admission(AdmissionRequest, ClusterState.Admission)
    case sourceStored(stream: UInt32, job: JobID, isStreamMode: Bool, SourceOutcome)
    case jobStatus(stream: UInt32, JobID, JobStatus?)
    case watch(stream: UInt32, JobID, ClusterState.WatchResult)
    case fetch(stream: UInt32, JobID, ClusterState.FetchResult)
    case workers(stream: UInt32, [WorkerList.Worker])
    case stats(stream: UInt32, Stats)
    case registered(WorkerID)
}

/// What a FETCH sends: a finished job's stored variants (read one at a time, each checked against its hash as it
/// is read) and its outcome.
struct StoredResult: Sendable {
    var variants: [StoredVariant]
    var outcome: Message
}

/// What became of a job whose source is complete.
enum SourceOutcome {
    /// In the queue: ACCEPTED now.
    case queued
    /// On its way to the job store: ACCEPTED (or REJECTED) comes as a delivery once that commits.
    case persisting
    /// It ended while its source arrived (cancelled).
    case ended
}

/// What the coordinator hands to a connection from another connection's event.
enum Delivery: Sendable {
    /// A stored async job's record committed: ACCEPTED on its SUBMIT stream.
    case accepted(stream: UInt32, JobID)
    /// A stored async job's record could not be written: REJECTED on its SUBMIT stream.
    case refused(stream: UInt32, JobID, Rejected)
    case assign(Assign, [Chunk])
    case assignObject(AssignObject)
    case cancelTask(job: JobID, attempt: UInt16)
    case variant(stream: UInt32, VariantHeader, [Chunk])
    case outcome(stream: UInt32, Message)
    /// Send GOAWAY (to client links only, or to every link); close the connection at once, or leave its open
    /// streams to finish.
    case goAway(GoAway, close: Bool, clientsOnly: Bool)
}

/// The channel's outbound side, as backpressure sees it.
struct OutputLevel {
    /// Bytes handed to the socket so far.
    var drained: UInt64
    /// Bytes queued in the channel, not yet written.
    var buffered: UInt64
}
