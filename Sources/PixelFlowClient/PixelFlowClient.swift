import NIOCore
import PixelFlowProtocol
import Synchronization

/// A connection to a PixelFlow coordinator, shared by any number of concurrent requests.
///
/// ```swift
/// try await PixelFlowClient.withConnection(to: "127.0.0.1", port: 7400, keyID: "dev", secret: "s3cret") { client in
///     for try await event in client.process(source: jpegBytes, pipeline: #"[{"id":"thumb","action":"resize","width":150,"format":"webp"}]"#) {
///         if case .variant(let variant) = event { print(variant.id, variant.width, variant.bytes.count) }
///     }
/// }
/// ```
///
/// Requests respect the coordinator's `max_in_flight`: beyond it they wait for a free slot instead of being
/// rejected. Errors are `PixelFlowClientError`.
public final class PixelFlowClient: Sendable {
    let connection: ClientConnection
    /// Finished by `close()`: ends the scope that keeps a `connect`ed client's connection open.
    let closeRequested: AsyncStream<Void>
    let closeRequestedSink: AsyncStream<Void>.Continuation
    /// The task that owns a `connect`ed client's connection (nil inside `withConnection`).
    let lifetime = Mutex<Task<Void, Never>?>(nil)

    init(connection: ClientConnection) {
        self.connection = connection
        (closeRequested, closeRequestedSink) = AsyncStream<Void>.makeStream()
    }

    /// The limits the coordinator stated in AUTH_OK (chunk size, source size, variants, requests in flight).
    public var limits: ProtocolLimits { connection.session.limits }

    /// The coordinator's name from HELLO.
    public var serverName: String { connection.session.server }

    /// Requests open on the connection right now.
    public var requestsInFlight: Int { connection.openStreamCount }

    /// Runs one job and streams its results: `.accepted`, each `.variant` as soon as it is complete, then
    /// `.completed`. A rejection or a failed job ends the sequence with a `PixelFlowClientError`.
    ///
    /// Nothing is sent until the sequence is iterated; the source is uploaded by the iterating task.
    /// - Parameter pipeline: a JSON array of variant objects, e.g. `[{"id":"thumb","action":"resize","width":150,"format":"webp"}]`.
    public func process(source: [UInt8], pipeline: String, options: SubmitOptions = SubmitOptions()) -> JobEvents {
        JobEvents(connection: connection, source: source, pipeline: pipeline, options: options)
    }

    /// Submits a job in async mode and returns its id as soon as the coordinator has admitted it.
    /// Follow it with `status`, `wait` or `cancel`.
    public func submit(
        source: [UInt8], pipeline: String, idempotencyKey: String? = nil, webhookURL: String? = nil,
        priority: UInt8 = 128, deadline: Duration? = nil
    ) async throws(PixelFlowClientError) -> JobID {
        let options = SubmitOptions(idempotencyKey: idempotencyKey, webhookURL: webhookURL, priority: priority, deadline: deadline)
        let submit = try Self.makeSubmit(mode: .async, source: source, pipeline: pipeline, options: options, limits: limits)
        let events = try await connection.submit(.submitAsync, submit, source: source)
        switch try await ClientConnection.firstEvent(of: events) {
        case .accepted(let accepted): return JobID(accepted.jobID)
        case .variant, .jobDone, .status, .workers, .stats: throw Self.unexpectedAnswer(to: .submitAsync)
        }
    }

    /// Where a job stands.
    public func status(_ job: JobID) async throws(PixelFlowClientError) -> JobStatus {
        switch try await connection.request(.status, .statusRequest(StatusRequest(jobID: job.rawValue))) {
        case .status(let status): return status
        case .accepted, .variant, .jobDone, .workers, .stats: throw Self.unexpectedAnswer(to: .status)
        }
    }

    /// Waits until the job ends: returns its JOB_DONE, or throws its JOB_FAILED as a `PixelFlowClientError`.
    public func wait(_ job: JobID) async throws(PixelFlowClientError) -> JobOutcome {
        switch try await connection.request(.watch, .watch(Watch(jobID: job.rawValue))) {
        case .jobDone(let done): return done
        case .accepted, .variant, .status, .workers, .stats: throw Self.unexpectedAnswer(to: .watch)
        }
    }

    /// Cancels a job; returns its state afterwards (`cancelled`, or how it ended if it already had).
    public func cancel(_ job: JobID) async throws(PixelFlowClientError) -> JobStatus {
        switch try await connection.request(.cancel, .cancel(Cancel(jobID: job.rawValue))) {
        case .status(let status): return status
        case .accepted, .variant, .jobDone, .workers, .stats: throw Self.unexpectedAnswer(to: .cancel)
        }
    }

    /// The registered workers: name, address, slots, busy, done, failed, time since the last heartbeat.
    public func workers() async throws(PixelFlowClientError) -> [WorkerList.Worker] {
        switch try await connection.request(.workers, .workersRequest(WorkersRequest())) {
        case .workers(let list): return list.workers
        case .accepted, .variant, .jobDone, .status, .stats: throw Self.unexpectedAnswer(to: .workers)
        }
    }

    /// Cluster and per-tenant counters: queue depth, running, admitted, rejected, succeeded, failed.
    public func stats() async throws(PixelFlowClientError) -> Stats {
        switch try await connection.request(.stats, .statsRequest(StatsRequest())) {
        case .stats(let stats): return stats
        case .accepted, .variant, .jobDone, .status, .workers: throw Self.unexpectedAnswer(to: .stats)
        }
    }

    /// Builds the SUBMIT frame, refusing locally what the coordinator would refuse anyway: a source over
    /// `max_source_bytes`, a pipeline that does not fit a control frame.
    static func makeSubmit(mode: Submit.Mode, source: [UInt8], pipeline: String, options: SubmitOptions, limits: ProtocolLimits) throws(PixelFlowClientError) -> Submit {
        guard UInt64(source.count) <= limits.maxSourceBytes else {
            throw PixelFlowClientError(.sourceTooLarge, "the source is \(source.count) bytes, the coordinator accepts at most \(limits.maxSourceBytes)", underlying: .sourceTooLarge)
        }
        let submit = Submit(
            mode: mode, priority: options.priority, deadlineMilliseconds: options.deadlineMilliseconds,
            idempotencyKey: options.idempotencyKey ?? "", webhookURL: options.webhookURL ?? "",
            sourceSize: UInt64(source.count), pipeline: ByteBuffer(string: pipeline))
        // mode, priority, deadline_ms, two str lengths, source_size, blob length: 1+1+4+2+2+8+4 bytes around the text.
        let frameSize = 22 + submit.idempotencyKey.utf8.count + submit.webhookURL.utf8.count + submit.pipeline.readableBytes
        guard frameSize <= Int(limits.maxControlPayload) else {
            throw PixelFlowClientError(.invalidPipeline, "pipeline: the SUBMIT frame would be \(frameSize) bytes, over max_control_payload \(limits.maxControlPayload)", underlying: .invalidPipeline)
        }
        return submit
    }

    static func unexpectedAnswer(to kind: RequestKind) -> PixelFlowClientError {
        PixelFlowClientError(.protocolViolation, "unexpected answer to \(kind)", underlying: .protocolError)
    }
}
