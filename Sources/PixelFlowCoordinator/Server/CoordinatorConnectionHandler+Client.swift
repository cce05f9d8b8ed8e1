import NIOCore
import PixelFlowProtocol

/// The client link: requests, source uploads, and the results delivered back.
extension CoordinatorConnectionHandler {
    func handleClient(_ frame: Frame, _ client: ClientLink) throws(ProtocolError) {
        let stream = frame.streamID
        switch frame.message {
        case .submit(let submit):
            try client.open(stream)
            try submitReceived(submit, stream: stream, client)
        case .chunk(let chunk):
            guard let upload = try client.receiveChunk(chunk, on: stream, now: .now()) else { return }
            uploadCompleted(upload, stream: stream, client)
        case .cancel(let cancel):
            try client.open(stream)
            let tenant = client.tenant
            var result: JobStatus?
            coordinator.transition { state in
                let (status, actions) = state.cancel(cancel.jobID, tenant: tenant, now: .now())
                result = status
                return actions
            }
            send(stream, result.map { .status($0) } ?? .rejected(notFound(cancel.jobID)))
        case .statusRequest(let request):
            try client.open(stream)
            let tenant = client.tenant
            let status = coordinator.withState { $0.status(of: request.jobID, tenant: tenant) }
            send(stream, status.map { .status($0) } ?? .rejected(notFound(request.jobID)))
        case .watch(let watch):
            try client.open(stream)
            // A WATCH holds its stream until the job ends: it counts against max_in_flight like a SUBMIT.
            guard !client.isAtInFlightLimit else {
                return send(stream, .rejected(Rejected(code: .tooManyInFlight, retryAfterMilliseconds: 100, message: "\(client.maxInFlight) requests are already in flight on this connection")))
            }
            try watchJob(watch.jobID, stream: stream, client)
        case .workersRequest:
            try client.open(stream)
            send(stream, .workers(WorkerList(workers: coordinator.workerList(for: client.tenant))))
        case .statsRequest:
            try client.open(stream)
            send(stream, .stats(coordinator.stats(for: client.tenant)))
        case .ping, .pong, .goAway:
            handleConnectionFrame(frame.message)
        case .hello, .auth, .authOK, .register, .registered, .heartbeat, .drain, .accepted, .rejected, .variant,
            .jobDone, .jobFailed, .status, .workers, .stats, .assign, .taskDone, .taskFailed, .cancelTask:
            throw ProtocolError.malformed("\(frame.message.frameType) is not expected from a client after the handshake")
        }
    }

    /// Admission of a SUBMIT; its source follows on the stream.
    private func submitReceived(_ submit: Submit, stream: UInt32, _ client: ClientLink) throws(ProtocolError) {
        let isStreamMode = submit.mode == .stream
        let now = NIODeadline.now()
        func upload(_ purpose: ClientLink.Upload.Purpose, awaiting: JobID? = nil) {
            var upload = ClientLink.Upload(
                purpose, expected: submit.sourceSize, isStreamMode: isStreamMode, now: now, deadline: uploadDeadline(submit.sourceSize, now: now))
            upload.hasIdempotencyKey = !submit.idempotencyKey.isEmpty
            client.streams[stream] = ClientLink.Stream(upload: upload, awaiting: awaiting)
        }
        // The client sends its source right after SUBMIT: a refused stream still swallows it up to END.
        func reject(_ error: ProtocolError) {
            upload(.discard)
            send(stream, .rejected(Rejected(error)))
        }
        guard client.streams.count < 2 * client.maxInFlight else {
            throw ProtocolError(.tooManyInFlight, "more than \(2 * client.maxInFlight) open streams: the client ignores max_in_flight")
        }
        if client.isAtInFlightLimit {
            return reject(ProtocolError(.tooManyInFlight, "\(client.maxInFlight) requests are already in flight on this connection", retryAfterMilliseconds: 100))
        }
        if submit.sourceSize == 0 {
            return reject(ProtocolError(.undecodableImage, "the source is empty"))
        }
        if let problem = WebhookURL.problem(with: submit.webhookURL) {
            return reject(ProtocolError(.invalidRequest, problem))
        }
        let variantCount: Int
        switch coordinator.validatePipeline(submit.pipeline) {
        case .success(let count): variantCount = count
        case .failure(let error): return reject(error)
        }
        guard variantCount <= Int(limits.maxVariants) else {
            return reject(ProtocolError(.invalidPipeline, "pipeline: \(variantCount) variants, at most \(limits.maxVariants)"))
        }
        let subscriber = Subscriber(connection: connectionID, stream: stream)
        let tenant = client.tenant
        let admission = coordinator.withState {
            $0.admit(tenant: tenant, submit: submit, variantCount: variantCount, subscriber: isStreamMode ? subscriber : nil, now: now)
        }
        switch admission {
        case .admitted(let job):
            // A stream-mode submitter awaits the job from the start: an outcome reached during the upload is delivered.
            upload(.job(job), awaiting: isStreamMode ? job : nil)
        case .duplicate(let job, let digest):
            // Answered once this source is in and matches the first one's (PROTOCOL.md §10.2).
            upload(.duplicate(of: job, sourceDigest: digest, hasher: StreamingSHA256()))
        case .rejected(let error):
            reject(error)
        }
    }

    /// Idle grace plus the source's size at the minimum upload rate.
    private func uploadDeadline(_ size: UInt64, now: NIODeadline) -> NIODeadline {
        let seconds = Double(size) / Double(max(1, settings.minUploadBytesPerSecond))
        let nanoseconds = Int64(min(seconds * 1e9, 86_400e9))
        return now + settings.uploadIdleTimeout + .nanoseconds(nanoseconds)
    }

    /// A source's END arrived: queue the job, or answer a resubmission.
    private func uploadCompleted(_ upload: ClientLink.Upload, stream: UInt32, _ client: ClientLink) {
        switch upload.purpose {
        case .job(let job):
            guard let payload = upload.payload else { return }
            // The job may have ended while its source arrived (cancelled): a stream-mode client already has its
            // outcome; an async one, still waiting for ACCEPTED, is told instead.
            guard coordinator.withState({ $0.isLive(job) }) else {
                if !upload.isStreamMode { send(stream, .rejected(Rejected(code: .cancelled, message: "job \(job) was cancelled before its source was complete"))) }
                return
            }
            send(stream, .accepted(Accepted(jobID: job)))
            let source = PayloadAssembler.chunks(of: payload.bytes, size: Int(limits.maxChunkData))
            let digest = upload.hasIdempotencyKey ? SHA256Digest.of(payload.bytes) : nil
            coordinator.transition { $0.sourceReceived(job, source: source, digest: digest, now: .now()) }
        case .duplicate(let job, let expected, let hasher):
            guard hasher.finalize() == expected else {
                return send(stream, .rejected(Rejected(code: .idempotencyConflict, message: "the idempotency key names job \(job), whose source differs from this one")))
            }
            send(stream, .accepted(Accepted(jobID: job, duplicate: true)))
            // In stream mode the stream continues as a WATCH of the first job.
            if upload.isStreamMode { try? watchJob(job, stream: stream, client) }
        case .discard:
            break
        }
    }

    func watchJob(_ job: JobID, stream: UInt32, _ client: ClientLink) throws(ProtocolError) {
        let subscriber = Subscriber(connection: connectionID, stream: stream)
        let tenant = client.tenant
        switch coordinator.withState({ $0.watch(job, tenant: tenant, subscriber: subscriber) }) {
        case .ended(let outcome):
            send(stream, outcome)
            client.finishResults(on: stream)
        case .subscribed:
            var open = client.streams[stream] ?? ClientLink.Stream()
            open.awaiting = job
            client.streams[stream] = open
        case .notFound:
            send(stream, .rejected(notFound(job)))
            client.finishResults(on: stream)
        }
    }

    private func notFound(_ job: JobID) -> Rejected {
        Rejected(code: .notFound, message: "no job \(job) for this tenant")
    }

    /// Fails admitted uploads that sent nothing for `uploadIdleTimeout` or overran their deadline: a client that
    /// stops or trickles mid-source must not hold queue room and source bytes that other tenants need. Both
    /// modes get REJECTED(timeout): the job was never accepted.
    func expireUploads(_ client: ClientLink, now: NIODeadline) {
        let idle = settings.uploadIdleTimeout
        for (stream, upload, wasIdle) in client.expiredUploads(idleSince: now - idle, now: now) {
            let reason = wasIdle
                ? "no source bytes for \(idle.milliseconds) ms"
                : "the source did not arrive at the minimum rate of \(settings.minUploadBytesPerSecond) bytes/s"
            switch upload.purpose {
            case .job(let job):
                client.discardUpload(on: stream)
                let subscriber = Subscriber(connection: connectionID, stream: stream)
                coordinator.transition { state in
                    state.unsubscribe(subscriber, from: job)
                    return state.abandon(job, reason: reason, now: now)
                }
                client.finishResults(on: stream)
                send(stream, .rejected(Rejected(code: .timeout, message: reason)))
            case .duplicate:
                client.discardUpload(on: stream)
                send(stream, .rejected(Rejected(code: .timeout, message: reason)))
            case .discard:
                guard wasIdle else { continue }  // a refused upload only has to keep moving
                client.dropUpload(on: stream)
            }
        }
    }

    /// A result for one of this client's streams, from another connection's event.
    func deliverToClient(_ delivery: Delivery, _ client: ClientLink) {
        switch delivery {
        case .variant(let stream, let header, let chunks):
            guard client.streams[stream]?.awaiting == header.jobID else { return }
            write(.frame(Frame(stream: stream, .variant(header))))
            for chunk in chunks { write(.frame(Frame(stream: stream, .chunk(chunk)))) }
        case .outcome(let stream, let message):
            guard let job = client.streams[stream]?.awaiting else { return }
            // The job ended while its source was still arriving: the rest of it (or an early END) is swallowed.
            if client.streams[stream]?.upload?.job == job { client.discardUpload(on: stream) }
            client.finishResults(on: stream)
            write(.frame(Frame(stream: stream, message)))
        case .assign, .cancelTask, .goAway:
            return
        }
        scheduleFlush()
    }
}
