import NIOCore
import PixelFlowLocking
import PixelFlowProtocol

/// A connection to a PixelFlow coordinator, shared by any number of concurrent requests.
///
/// ```swift
/// try await PixelFlowClient.withConnection(to: "127.0.0.1", port: 7400, keyID: "dev", secret: "s3cret") { client in
///     let pipeline = #"[{"id":"thumb","action":"resize","width":150,"format":"webp"}]"#
///     for try await event in client.process(source: jpegBytes, pipeline: pipeline) {
///         if case .variant(let variant) = event { print(variant.id, variant.width, variant.bytes.count) }
///     }
/// }
/// ```
///
/// Requests respect the coordinator's `max_in_flight`: beyond it they wait for a free slot instead of being
/// rejected. Every request throws ``PixelFlowClientError``. A lost connection is reconnected by itself and the
/// requests in progress carry on (``ReconnectPolicy``).
public final class PixelFlowClient: Sendable {
    let holder: ConnectionHolder
    /// The first connection: what the synchronous properties read until another replaces it.
    private let first: ClientConnection
    /// Finished by `close()`: ends the scope that keeps a `connect`ed client's connection open.
    let closeRequested: AsyncStream<Void>
    let closeRequestedSink: AsyncStream<Void>.Continuation
    /// The task that owns a `connect`ed client's connection (nil inside `withConnection`).
    let lifetime = Locked<Task<Void, Never>?>(nil)

    init(holder: ConnectionHolder, first: ClientConnection) {
        self.holder = holder
        self.first = first
        (closeRequested, closeRequestedSink) = AsyncStream<Void>.makeStream()
    }

    /// The connection in use (the last one while reconnecting).
    var connection: ClientConnection { holder.latest ?? first }

    /// The limits the coordinator stated when it accepted the connection (chunk size, source size, variants,
    /// requests in flight): what this client must stay within.
    public var limits: ConnectionLimits { ConnectionLimits(wire: connection.session.limits) }

    /// The coordinator's name, as it introduced itself in the handshake.
    public var serverName: String { connection.session.server }

    /// Requests open on the connection right now (requests waiting for a slot are not counted).
    public var requestsInFlight: Int { connection.openStreamCount }

    /// Runs one job and streams its results: ``JobEvent/accepted(_:duplicate:)``, each ``JobEvent/variant(_:)`` as
    /// soon as it is complete, then ``JobEvent/completed(_:)``.
    ///
    /// Nothing is sent until the sequence is iterated; the source is uploaded by the iterating task. Iteration
    /// throws ``PixelFlowClientError`` for a rejection (``PixelFlowClientError/Code/rejected``), an invalid
    /// pipeline, a failed job or a lost connection.
    /// - Parameters:
    ///   - source: the image's encoded bytes (JPEG, PNG, WebP…), at most ``ConnectionLimits/maxSourceBytes``.
    ///   - pipeline: a JSON array of variant objects, e.g.
    ///     `[{"id":"thumb","action":"resize","width":150,"format":"webp"}]`.
    ///   - options: idempotency key, webhook, priority and deadline.
    public func process(source: [UInt8], pipeline: String, options: SubmitOptions = SubmitOptions()) -> JobEvents {
        JobEvents(
            client: self, source: source, pipeline: pipeline, options: options,
            keyIsGenerated: options.idempotencyKey == nil)
    }

    /// Submits a job in async mode and returns its id as soon as the coordinator has admitted it (on a coordinator
    /// with a job store: stored), without waiting for its variants. Follow it with ``status(_:)``, ``wait(_:)``,
    /// ``fetch(_:)`` or ``cancel(_:)``. Without an `idempotencyKey` one is generated, so that a submission sent
    /// again after a lost connection names the same job.
    ///
    /// - Throws: ``PixelFlowClientError``: ``PixelFlowClientError/Code/rejected`` when the coordinator is busy,
    ///   ``PixelFlowClientError/Code/invalidPipeline``, ``PixelFlowClientError/Code/sourceTooLarge``, or
    ///   ``PixelFlowClientError/Code/connectionLost``.
    public func submit(
        source: [UInt8], pipeline: String, idempotencyKey: String? = nil, webhookURL: String? = nil,
        priority: UInt8 = 128, deadline: Duration? = nil
    ) async throws(PixelFlowClientError) -> JobID {
        let options = SubmitOptions(
            idempotencyKey: idempotencyKey ?? Self.generatedKey(), webhookURL: webhookURL, priority: priority,
            deadline: deadline)
        return try await retrying { connection throws(PixelFlowClientError) in
            let submit = try Self.makeSubmit(
                mode: .async, source: source, pipeline: pipeline, options: options, limits: connection.session.limits)
            let events = try await connection.submit(.submitAsync, submit, source: source)
            switch try await ClientConnection.firstEvent(of: events) {
            case .accepted(let accepted): return JobID(accepted.jobID)
            case .variant, .jobDone, .status, .workers, .stats, .jobList, .usage:
                throw Self.unexpectedAnswer(to: .submitAsync)
            }
        }
    }

    /// Where a job stands: its state, attempts, variants done, and why it failed if it did.
    ///
    /// - Throws: ``PixelFlowClientError``: ``PixelFlowClientError/Code/notFound`` for a job this tenant does not
    ///   own, or ``PixelFlowClientError/Code/connectionLost``.
    public func status(_ job: JobID) async throws(PixelFlowClientError) -> JobStatusReport {
        switch try await request(.status, .statusRequest(StatusRequest(jobID: job.rawValue))) {
        case .status(let status): return JobStatusReport(wire: status)
        case .accepted, .variant, .jobDone, .workers, .stats, .jobList, .usage: throw Self.unexpectedAnswer(to: .status)
        }
    }

    /// Waits until the job ends and returns how it succeeded.
    ///
    /// - Throws: ``PixelFlowClientError``: the job's own failure (with ``PixelFlowClientError/jobID`` set) if it
    ///   failed or was cancelled, ``PixelFlowClientError/Code/notFound`` for an unknown job, or
    ///   ``PixelFlowClientError/Code/connectionLost``.
    public func wait(_ job: JobID) async throws(PixelFlowClientError) -> JobOutcome {
        switch try await request(.watch, .watch(Watch(jobID: job.rawValue))) {
        case .jobDone(let done): return JobOutcome(wire: done)
        case .accepted, .variant, .status, .workers, .stats, .jobList, .usage: throw Self.unexpectedAnswer(to: .watch)
        }
    }

    /// Waits until an async job ends, then returns every variant it produced, read back from the coordinator's job
    /// store: after the submitter disconnected, and after the coordinator restarted, for `jobs.result_ttl`
    /// (24 h by default). Needs a coordinator speaking protocol v2.
    ///
    /// - Throws: ``PixelFlowClientError``: the job's own failure if it failed or was cancelled,
    ///   ``PixelFlowClientError/Code/notFound`` for an unknown, expired or stream-mode job,
    ///   ``PixelFlowClientError/Code/storageError`` when a stored variant is damaged, or
    ///   ``PixelFlowClientError/Code/connectionLost``.
    public func fetch(_ job: JobID) async throws(PixelFlowClientError) -> FetchedJob {
        try await retrying { connection throws(PixelFlowClientError) in
            try Self.requireVersion2(connection, for: "has no FETCH")
            let (_, events) = try await connection.open(.fetch, frames: [.fetch(Fetch(jobID: job.rawValue))])
            var variants: [Variant] = []
            do {
                for try await event in events {
                    switch event {
                    case .variant(let variant): variants.append(variant)
                    case .jobDone(let done): return FetchedJob(variants: variants, outcome: JobOutcome(wire: done))
                    case .accepted, .status, .workers, .stats, .jobList, .usage: throw Self.unexpectedAnswer(to: .fetch)
                    }
                }
            } catch {
                throw ClientConnection.typed(error)
            }
            throw Task.isCancelled ? .cancelledByTask : .connectionLost("the FETCH ended without the job's outcome")
        }
    }

    /// The stored (async) jobs of this tenant — every tenant's for an operator key — newest first, optionally of
    /// one state: a page of at most `limit` (1…200; fewer if they would not fit one frame); pass the page's
    /// ``JobPage/next`` as `before` for the next one. Needs a coordinator with a job store speaking protocol v2.
    ///
    /// - Throws: ``PixelFlowClientError``: ``PixelFlowClientError/Code/notFound`` without a job store,
    ///   ``PixelFlowClientError/Code/storageError``, ``PixelFlowClientError/Code/connectionLost``.
    public func jobs(
        state: JobState? = nil, limit: Int = 50, before: JobID? = nil
    ) async throws(PixelFlowClientError) -> JobPage {
        let request = JobsRequest(
            state: state.map(\.wire), limit: UInt16(clamping: min(max(limit, 1), Int(JobsRequest.maxLimit))),
            beforeJobID: before?.rawValue ?? 0)
        return try await retrying { connection throws(PixelFlowClientError) in
            try Self.requireVersion2(connection, for: "lists no jobs")
            switch try await connection.request(.jobs, .jobsRequest(request)) {
            case .jobList(let list):
                return JobPage(
                    jobs: list.jobs.map(JobSummary.init(wire:)),
                    next: list.nextBeforeJobID == 0 ? nil : JobID(list.nextBeforeJobID))
            case .accepted, .variant, .jobDone, .status, .workers, .stats, .usage:
                throw Self.unexpectedAnswer(to: .jobs)
            }
        }
    }

    /// Cancels a job and returns its state afterwards: ``JobState/cancelled``, or how it ended if it already had.
    ///
    /// - Throws: ``PixelFlowClientError``: ``PixelFlowClientError/Code/notFound`` for an unknown job, or
    ///   ``PixelFlowClientError/Code/connectionLost``.
    public func cancel(_ job: JobID) async throws(PixelFlowClientError) -> JobStatusReport {
        switch try await request(.cancel, .cancel(Cancel(jobID: job.rawValue))) {
        case .status(let status): return JobStatusReport(wire: status)
        case .accepted, .variant, .jobDone, .workers, .stats, .jobList, .usage: throw Self.unexpectedAnswer(to: .cancel)
        }
    }

    /// The registered workers: name, address, slots, busy, done, failed, time since the last heartbeat.
    ///
    /// - Throws: ``PixelFlowClientError``, e.g. ``PixelFlowClientError/Code/connectionLost``.
    public func workers() async throws(PixelFlowClientError) -> [WorkerInfo] {
        switch try await request(.workers, .workersRequest(WorkersRequest())) {
        case .workers(let list): return list.workers.map(WorkerInfo.init(wire:))
        case .accepted, .variant, .jobDone, .status, .stats, .jobList, .usage: throw Self.unexpectedAnswer(to: .workers)
        }
    }

    /// Cluster and per-tenant counters: queue depth, running, admitted, rejected, succeeded, failed.
    ///
    /// - Throws: ``PixelFlowClientError``, e.g. ``PixelFlowClientError/Code/connectionLost``.
    public func stats() async throws(PixelFlowClientError) -> ClusterStats {
        switch try await request(.stats, .statsRequest(StatsRequest())) {
        case .stats(let stats): return ClusterStats(wire: stats)
        case .accepted, .variant, .jobDone, .status, .workers, .jobList, .usage: throw Self.unexpectedAnswer(to: .stats)
        }
    }

    /// Builds the SUBMIT frame, refusing locally what the coordinator would refuse anyway: a source over
    /// `max_source_bytes`, a pipeline that does not fit a control frame.
    /// A one-answer request, sent again on the next connection if this one is lost.
    private func request(_ kind: RequestKind, _ message: Message) async throws(PixelFlowClientError) -> StreamEvent {
        try await retrying { connection throws(PixelFlowClientError) in try await connection.request(kind, message) }
    }

    /// Runs `body` on the current connection; when that connection is lost, or the coordinator shuts it down, and
    /// the client reconnects, runs it again on the next one.
    func retrying<T: Sendable>(
        _ body: (ClientConnection) async throws(PixelFlowClientError) -> T
    ) async throws(PixelFlowClientError) -> T {
        var (connection, generation) = try await holder.connection()
        while true {
            do throws(PixelFlowClientError) {
                return try await body(connection)
            } catch  where Self.isLostConnection(error) && holder.reconnects {
                (connection, generation) = try await holder.connection(newerThan: generation)
            }
        }
    }

    /// The request may succeed on another connection: this one broke, or its coordinator is going away.
    static func isLostConnection(_ error: PixelFlowClientError) -> Bool {
        error.code == .connectionLost || error.rejectionReason == .shuttingDown
    }

    /// A random idempotency key for a submission that named none: 128 bits in hex.
    static func generatedKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var key = Array("pfc-".utf8)
        key.reserveCapacity(36)
        for _ in 0..<2 {
            let value = generator.next() as UInt64
            for shift in stride(from: 60, through: 0, by: -4) {
                key.append(digits[Int((value >> UInt64(shift)) & 0xF)])
            }
        }
        return String(decoding: key, as: UTF8.self)
    }

    static func makeSubmit(
        mode: Submit.Mode, source: [UInt8], pipeline: String, options: SubmitOptions, limits: ProtocolLimits
    ) throws(PixelFlowClientError) -> Submit {
        guard UInt64(source.count) <= limits.maxSourceBytes else {
            throw PixelFlowClientError(
                .sourceTooLarge,
                "the source is \(source.count) bytes, the coordinator accepts at most \(limits.maxSourceBytes)",
                wireCode: .sourceTooLarge)
        }
        let submit = Submit(
            mode: mode, priority: options.priority, deadlineMilliseconds: options.deadlineMilliseconds,
            idempotencyKey: options.idempotencyKey ?? "", webhookURL: options.webhookURL ?? "",
            sourceSize: UInt64(source.count), pipeline: ByteBuffer(string: pipeline))
        // mode, priority, deadline_ms, two str lengths, source_size, blob length: 1+1+4+2+2+8+4 bytes around the text.
        let textSize = submit.idempotencyKey.utf8.count + submit.webhookURL.utf8.count + submit.pipeline.readableBytes
        let frameSize = 22 + textSize
        guard frameSize <= Int(limits.maxControlPayload) else {
            throw PixelFlowClientError(
                .invalidPipeline,
                "pipeline: the SUBMIT frame would be \(frameSize) bytes, "
                    + "over max_control_payload \(limits.maxControlPayload)",
                wireCode: .invalidPipeline)
        }
        return submit
    }

    /// A request of protocol v2 on a connection to an older coordinator: `lacking` says what it cannot do.
    static func requireVersion2(_ connection: ClientConnection, for lacking: String) throws(PixelFlowClientError) {
        guard connection.session.version < ProtocolVersion.v2 else { return }
        throw PixelFlowClientError(
            .protocolViolation,
            "the coordinator speaks protocol v\(connection.session.version), which \(lacking): upgrade it")
    }

    static func unexpectedAnswer(to kind: RequestKind) -> PixelFlowClientError {
        PixelFlowClientError(.protocolViolation, "unexpected answer to \(kind)", wireCode: .protocolError)
    }
}
