import NIOCore
import PixelFlowProtocol

/// The client link's protocol: requests in, answers and cluster requests out, results delivered back.
extension ClientLink {
    mutating func receive(
        _ message: ClientToCoordinator, on stream: UInt32, now: NIODeadline
    ) throws(ProtocolError)
        -> [ConnectionAction]
    {
        switch message {
        case .submit(let submit):
            try open(stream)
            return try submitReceived(submit, stream: stream, now: now)
        case .chunk(let chunk):
            guard let upload = try receiveChunk(chunk, on: stream, now: now) else { return [] }
            return uploadCompleted(upload, stream: stream)
        case .cancel(let cancel):
            try open(stream)
            return [.cluster(.cancel(cancel.jobID, tenant: tenant, stream: stream))]
        case .statusRequest(let request):
            try open(stream)
            return [.cluster(.status(request.jobID, tenant: tenant, stream: stream))]
        case .watch(let watch):
            try open(stream)
            // A WATCH holds its stream until the job ends: it counts against max_in_flight like a SUBMIT.
            guard !isAtInFlightLimit else { return [inFlightRejection(on: stream)] }
            return [.cluster(.watch(watch.jobID, tenant: tenant, stream: stream))]
        case .fetch(let fetch):
            try requireVersion2(for: "FETCH")
            try open(stream)
            // Like WATCH: it holds its stream until the job ends.
            guard !isAtInFlightLimit else { return [inFlightRejection(on: stream)] }
            return [.cluster(.fetch(fetch.jobID, tenant: tenant, stream: stream))]
        case .jobsRequest(let request):
            try requireVersion2(for: "JOBS_REQUEST")
            try open(stream)
            return [.queryStore(stream: stream, .jobs(request), tenant: tenant)]
        case .usageRequest(let request):
            try requireVersion2(for: "USAGE_REQUEST")
            try open(stream)
            return [.queryStore(stream: stream, .usage(request), tenant: tenant)]
        case .workersRequest:
            try open(stream)
            return [.cluster(.workers(tenant: tenant, stream: stream))]
        case .statsRequest:
            try open(stream)
            return [.cluster(.stats(tenant: tenant, stream: stream))]
        case .ping(let ping):
            return [.pong(ping)]
        case .pong:
            return []
        case .goAway:
            return [.close]  // the client is leaving: its streams end with the connection
        }
    }

    /// The coordinator answered one of this link's requests.
    mutating func clusterReplied(_ reply: ClusterReply, now: NIODeadline) -> [ConnectionAction] {
        switch reply {
        case .admission(let request, let admission):
            return admitted(request, admission, now: now)
        case .sourceStored(let stream, let job, let isStreamMode, let outcome):
            switch outcome {
            case .queued:
                return [self.reply(stream, .accepted(Accepted(jobID: job)))]
            case .persisting:
                // The stream stays open (and counts against max_in_flight) until the store answers.
                streams[stream] = Stream(upload: nil, awaiting: job)
                return []
            case .ended:
                break
            }
            // The job ended while its source arrived (cancelled): a stream-mode client already has its outcome;
            // an async one, still waiting for ACCEPTED, is told instead.
            guard !isStreamMode else { return [] }
            return [
                self.reply(
                    stream,
                    .rejected(
                        Rejected(
                            code: .cancelled, message: "job \(job) was cancelled before its source was complete")))
            ]
        case .jobStatus(let stream, let job, let status):
            return [self.reply(stream, status.map { .status($0) } ?? .rejected(Self.notFound(job)))]
        case .watch(let stream, let job, let result):
            return watching(job, on: stream, result)
        case .fetch(let stream, let job, let result):
            return fetching(job, on: stream, result)
        case .workers(let stream, let workers):
            return [self.reply(stream, .workers(WorkerList(workers: workers)))]
        case .stats(let stream, let stats):
            return [self.reply(stream, .stats(stats))]
        case .loginWait, .registered:
            return []
        }
    }

    // MARK: SUBMIT and its source

    /// Checks a SUBMIT against this connection's limits and the pipeline rules, then asks for admission. The
    /// client sends its source right after SUBMIT: a refused stream still swallows it up to END.
    private mutating func submitReceived(
        _ submit: Submit, stream: UInt32, now: NIODeadline
    ) throws(ProtocolError)
        -> [ConnectionAction]
    {
        guard streams.count < 2 * maxInFlight else {
            throw ProtocolError(
                .tooManyInFlight, "more than \(2 * maxInFlight) open streams: the client ignores max_in_flight")
        }
        if isAtInFlightLimit {
            return reject(
                submit, on: stream, now: now,
                ProtocolError(
                    .tooManyInFlight, "\(maxInFlight) requests are already in flight on this connection",
                    retryAfterMilliseconds: 100))
        }
        if submit.sourceSize == 0 {
            return reject(submit, on: stream, now: now, ProtocolError(.undecodableImage, "the source is empty"))
        }
        if let problem = WebhookURL.problem(with: submit.webhookURL) {
            return reject(submit, on: stream, now: now, ProtocolError(.invalidRequest, problem))
        }
        let pipeline: PipelineSummary
        switch rules.validatePipeline(submit.pipeline) {
        case .success(let summary): pipeline = summary
        case .failure(let error): return reject(submit, on: stream, now: now, error)
        }
        guard pipeline.variantCount <= rules.maxVariants else {
            return reject(
                submit, on: stream, now: now,
                ProtocolError(
                    .invalidPipeline,
                    "pipeline: \(pipeline.variantCount) variants, at most \(rules.maxVariants)"))
        }
        // The stream is held from now on: the source's chunks that follow belong to it.
        expectUpload(.discard, for: submit, on: stream, now: now)
        return [
            .cluster(
                .admit(AdmissionRequest(stream: stream, tenant: tenant, submit: submit, pipeline: pipeline)))
        ]
    }

    private mutating func reject(
        _ submit: Submit, on stream: UInt32, now: NIODeadline, _ error: ProtocolError
    )
        -> [ConnectionAction]
    {
        expectUpload(.discard, for: submit, on: stream, now: now)
        return [reply(stream, .rejected(Rejected(error)))]
    }

    private mutating func admitted(
        _ request: AdmissionRequest, _ admission: ClusterState.Admission, now: NIODeadline
    )
        -> [ConnectionAction]
    {
        let submit = request.submit
        switch admission {
        case .admitted(let job):
            // A stream-mode submitter awaits the job from the start: an outcome reached during the upload is delivered.
            expectUpload(
                .job(job), for: submit, on: request.stream, now: now, awaiting: submit.mode == .stream ? job : nil)
            return []
        case .duplicate(let job, let digest):
            // Answered once this source is in and matches the first one's (PROTOCOL.md §10.2).
            expectUpload(
                .duplicate(of: job, sourceDigest: digest, hasher: StreamingSHA256()), for: submit, on: request.stream,
                now: now)
            return []
        case .rejected(let error):
            return reject(submit, on: request.stream, now: now, error)
        }
    }

    private mutating func expectUpload(
        _ purpose: Upload.Purpose, for submit: Submit, on stream: UInt32, now: NIODeadline, awaiting: JobID? = nil
    ) {
        var upload = Upload(
            purpose, expected: submit.sourceSize, isStreamMode: submit.mode == .stream, now: now,
            deadline: uploadDeadline(submit.sourceSize, now: now))
        upload.hasIdempotencyKey = !submit.idempotencyKey.isEmpty
        streams[stream] = Stream(upload: upload, awaiting: awaiting)
    }

    /// Idle grace plus the source's size at the minimum upload rate.
    private func uploadDeadline(_ size: UInt64, now: NIODeadline) -> NIODeadline {
        let seconds = Double(size) / Double(max(1, rules.minUploadBytesPerSecond))
        let nanoseconds = Int64(min(seconds * 1e9, 86_400e9))
        return now + rules.uploadIdleTimeout + .nanoseconds(nanoseconds)
    }

    /// A source's END arrived: queue the job, or answer a resubmission.
    private mutating func uploadCompleted(_ upload: Upload, stream: UInt32) -> [ConnectionAction] {
        switch upload.purpose {
        case .job(let job):
            guard let payload = upload.payload else { return [] }
            let source = PayloadAssembler.chunks(of: payload.bytes, size: rules.maxChunkData)
            // Async jobs may be stored, under their source's hash.
            let digest = upload.hasIdempotencyKey || !upload.isStreamMode ? SHA256Digest.of(payload.bytes) : nil
            return [
                .cluster(
                    .sourceComplete(
                        stream: stream, job: job, source: source, bytes: payload.bytes, digest: digest,
                        isStreamMode: upload.isStreamMode))
            ]
        case .duplicate(let job, let expected, let hasher):
            guard hasher.finalize() == expected else {
                return [
                    reply(
                        stream,
                        .rejected(
                            Rejected(
                                code: .idempotencyConflict,
                                message: "the idempotency key names job \(job), whose source differs from this one")))
                ]
            }
            let accepted = reply(stream, .accepted(Accepted(jobID: job, duplicate: true)))
            // In stream mode the stream continues as a WATCH of the first job.
            guard upload.isStreamMode else { return [accepted] }
            return [accepted, .cluster(.watch(job, tenant: tenant, stream: stream))]
        case .discard:
            return []
        }
    }

    // MARK: WATCH, results, timeouts

    private mutating func watching(
        _ job: JobID, on stream: UInt32, _ result: ClusterState.WatchResult
    ) -> [ConnectionAction] {
        switch result {
        case .ended(let outcome):
            finishResults(on: stream)
            return [reply(stream, outcome)]
        case .subscribed:
            var open = streams[stream] ?? Stream()
            open.awaiting = job
            streams[stream] = open
            return []
        case .notFound:
            finishResults(on: stream)
            return [reply(stream, .rejected(Self.notFound(job)))]
        }
    }

    private mutating func fetching(
        _ job: JobID, on stream: UInt32, _ result: ClusterState.FetchResult
    ) -> [ConnectionAction] {
        switch result {
        case .waiting:
            streams[stream] = Stream(upload: nil, awaiting: job, isFetch: true)
            return []
        case .ended:
            streams[stream] = Stream(upload: nil, awaiting: job, isFetch: true)
            return [.readStoredResult(stream: stream, job, tenant: tenant)]
        case .notStored:
            finishResults(on: stream)
            return [
                reply(
                    stream,
                    .rejected(
                        Rejected(
                            code: .notFound,
                            message: "job \(job) is a stream job: its variants go to its own stream and are not kept")))
            ]
        case .notFound:
            finishResults(on: stream)
            return [reply(stream, .rejected(Self.notFound(job)))]
        }
    }

    /// Whether a FETCH of `job` is still open on `stream` (the client may have gone, or the read failed).
    func isFetching(_ job: JobID, on stream: UInt32) -> Bool {
        streams[stream]?.awaiting == job && streams[stream]?.isFetch == true
    }

    /// One stored variant of a FETCHed job was read: sent at once (the variants are read one at a time).
    func storedVariantRead(
        _ job: JobID, on stream: UInt32, _ header: VariantHeader, _ bytes: ByteBuffer
    ) -> [ConnectionAction] {
        guard isFetching(job, on: stream) else { return [] }
        return [
            .writeWithChunks(
                stream: stream, .variant(header), PayloadAssembler.chunks(of: bytes, size: rules.maxChunkData))
        ]
    }

    /// The FETCH is over: the job's outcome after its variants, or REJECTED when a read failed. The stream ends.
    mutating func storedResultEnded(
        _ job: JobID, on stream: UInt32, _ result: Result<Message, ProtocolError>
    ) -> [ConnectionAction] {
        guard isFetching(job, on: stream) else { return [] }
        finishResults(on: stream)
        switch result {
        case .success(let outcome): return [reply(stream, outcome)]
        case .failure(let error): return [reply(stream, .rejected(Rejected(error)))]
        }
    }

    /// REJECTED(too_many_in_flight) for a request beyond `max_in_flight`.
    private func inFlightRejection(on stream: UInt32) -> ConnectionAction {
        reply(
            stream,
            .rejected(
                Rejected(
                    code: .tooManyInFlight, retryAfterMilliseconds: 100,
                    message: "\(maxInFlight) requests are already in flight on this connection")))
    }

    /// On a v1 connection a v2 frame type is unknown, as a v1 coordinator would find it.
    private func requireVersion2(for frame: String) throws(ProtocolError) {
        guard version >= ProtocolVersion.v2 else {
            throw ProtocolError(
                .unknownFrameType, "\(frame) is a protocol v2 frame; this connection speaks v\(version)")
        }
    }

    /// A store query's answer (JOB_LIST, USAGE) or its rejection.
    func storeQueryAnswered(on stream: UInt32, _ result: Result<Message, ProtocolError>) -> [ConnectionAction] {
        switch result {
        case .success(let answer): [reply(stream, answer)]
        case .failure(let error): [reply(stream, .rejected(Rejected(error)))]
        }
    }

    /// A result for one of this client's streams, from another connection's event.
    mutating func deliver(_ delivery: Delivery) -> [ConnectionAction] {
        switch delivery {
        case .variant(let stream, let header, let chunks):
            guard streams[stream]?.awaiting == header.jobID, streams[stream]?.isFetch == false else { return [] }
            return [.writeWithChunks(stream: stream, .variant(header), chunks)]
        case .outcome(let stream, _) where streams[stream]?.isFetch == true:
            // The job ended and its outcome is stored after every variant: read them all back.
            guard let job = streams[stream]?.awaiting else { return [] }
            return [.readStoredResult(stream: stream, job, tenant: tenant)]
        case .outcome(let stream, let message):
            guard let job = streams[stream]?.awaiting else { return [] }
            // The job ended while its source was still arriving: the rest of it (or an early END) is swallowed.
            if streams[stream]?.upload?.job == job { discardUpload(on: stream) }
            finishResults(on: stream)
            return [reply(stream, message)]
        case .accepted(let stream, let job):
            guard streams[stream]?.awaiting == job else { return [] }
            finishResults(on: stream)
            return [reply(stream, .accepted(Accepted(jobID: job)))]
        case .refused(let stream, let job, let rejected):
            guard streams[stream]?.awaiting == job else { return [] }
            finishResults(on: stream)
            return [reply(stream, .rejected(rejected))]
        case .assign, .assignObject, .cancelTask, .goAway:
            return []
        }
    }

    /// Fails admitted uploads that sent nothing for `uploadIdleTimeout` or overran their deadline: a client that
    /// stops or trickles mid-source must not hold queue room and source bytes that other tenants need. Both
    /// modes get REJECTED(timeout): the job was never accepted.
    mutating func expireUploads(now: NIODeadline) -> [ConnectionAction] {
        let idle = rules.uploadIdleTimeout
        var actions: [ConnectionAction] = []
        for (stream, upload, wasIdle) in expiredUploads(idleSince: now - idle, now: now) {
            let reason =
                wasIdle
                ? "no source bytes for \(idle.milliseconds) ms"
                : "the source did not arrive at the minimum rate of \(rules.minUploadBytesPerSecond) bytes/s"
            switch upload.purpose {
            case .job(let job):
                discardUpload(on: stream)
                finishResults(on: stream)
                actions.append(.cluster(.abandonUpload(job, stream: stream, reason: reason)))
                actions.append(reply(stream, .rejected(Rejected(code: .timeout, message: reason))))
            case .duplicate:
                discardUpload(on: stream)
                actions.append(reply(stream, .rejected(Rejected(code: .timeout, message: reason))))
            case .discard:
                guard wasIdle else { continue }  // a refused upload only has to keep moving
                dropUpload(on: stream)
            }
        }
        return actions
    }

    private func reply(_ stream: UInt32, _ message: Message) -> ConnectionAction {
        .write(.frame(Frame(stream: stream, message)))
    }

    private static func notFound(_ job: JobID) -> Rejected {
        Rejected(code: .notFound, message: "no job \(job) for this tenant")
    }
}
