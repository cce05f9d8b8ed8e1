import NIOCore
import PixelFlowProtocol

/// One connection to the coordinator: runs the handshake, then the client or worker link. Every method runs on
/// the channel's event loop; other threads reach it only through `ConnectionHandle.deliver`.
final class CoordinatorConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = WireElement
    typealias OutboundOut = WireElement

    private enum Link {
        case handshaking
        case client(ClientLink)
        /// Authenticated as a worker; `nil` until its REGISTER.
        case worker(WorkerLink?)
        case closed
    }

    private let coordinator: Coordinator
    private var handshake: ServerHandshakeStateMachine
    private var link = Link.handshaking
    private var context: ChannelHandlerContext?
    private var connectionID: UInt64 = 0
    private var deadline: Scheduled<Void>?
    private var stallSweep: RepeatedTask?
    private var flushScheduled = false
    private var limits: ProtocolLimits { coordinator.settings.limits }
    private var peerAddress: String { context?.channel.remoteAddress?.hostAndPort ?? "unknown" }

    init(coordinator: Coordinator) {
        self.coordinator = coordinator
        self.handshake = ServerHandshakeStateMachine(
            secrets: coordinator.secrets, limits: coordinator.settings.limits, serverName: "pixelflow-coordinator",
            heartbeatIntervalMilliseconds: coordinator.settings.heartbeatInterval.milliseconds,
            leaseMilliseconds: coordinator.settings.lease.milliseconds)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        coordinator.metrics.connectionsOpened.add(1, ordering: .relaxed)
        connectionID = coordinator.register(ConnectionHandle(eventLoop: context.eventLoop, handler: NIOLoopBound(self, eventLoop: context.eventLoop)))
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: .milliseconds(Int64(limits.handshakeTimeoutMilliseconds))) {
            me.value.handshakeAction(me.value.handshake.deadlineExpired())
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let element = unwrapInboundIn(data)
        switch link {
        case .closed:
            return
        case .handshaking:
            handshakeAction(handshake.receive(element))
        case .client, .worker:
            guard case .frame(let frame) = element else { return fail(ProtocolError.malformed("second preface")) }
            do {
                try handle(frame)
            } catch {
                fail(error)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? ProtocolError {
            coordinator.metrics.protocolErrors.add(1, ordering: .relaxed)
            if case .handshaking = link {
                handshakeAction(handshake.decodingFailed(error))
            } else {
                fail(error)
            }
        } else {
            close()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        stallSweep?.cancel()
        let ended = link
        link = .closed
        coordinator.unregister(connectionID)
        switch ended {
        case .client(let client):
            let abandoned = client.unfinishedUploads
            let connection = connectionID
            coordinator.transition { state in
                let actions = abandoned.flatMap { state.abandon($0, reason: "the client left before its source was complete", now: .now()) }
                return actions + state.clientLost(connection: connection, now: .now())
            }
        case .worker(let worker?):
            coordinator.log("worker \(worker.workerID) at \(peerAddress) disconnected; its tasks are requeued")
            coordinator.workerLost(worker.workerID)
        case .worker(nil), .handshaking, .closed:
            break
        }
        context.fireChannelInactive()
    }

    // MARK: Handshake

    private func handshakeAction(_ action: ServerHandshakeStateMachine.Action) {
        switch action {
        case .send(let elements):
            elements.forEach(write)
        case .established(let peer, let reply):
            deadline?.cancel()
            write(reply)
            switch peer.role {
            case .client:
                link = .client(ClientLink(tenant: peer.keyID, maxInFlight: Int(limits.maxInFlight)))
                startStallSweep()
            case .worker: link = .worker(nil)
            case .coordinator: fail(ProtocolError(.wrongRole, "a coordinator cannot connect to a coordinator"))
            }
        case .fail(let error, let elements):
            coordinator.metrics.handshakeFailures.add(1, ordering: .relaxed)
            coordinator.log("handshake with \(peerAddress) refused: \(error)")
            elements.forEach(write)
            close()
        case .none:
            break
        }
    }

    // MARK: Frames after the handshake

    private func handle(_ frame: Frame) throws(ProtocolError) {
        switch link {
        case .client(let client):
            try requireSender(.client, frame)
            try handleClient(frame, client)
        case .worker(let worker):
            try requireSender(.worker, frame)
            try handleWorker(frame, worker)
        case .handshaking, .closed:
            return
        }
    }

    private func requireSender(_ role: PeerRole, _ frame: Frame) throws(ProtocolError) {
        guard frame.message.frameType.senders.contains(role) else {
            throw ProtocolError(.wrongRole, "a \(role) may not send \(frame.message.frameType)")
        }
    }

    private func handleClient(_ frame: Frame, _ client: ClientLink) throws(ProtocolError) {
        let stream = frame.streamID
        switch frame.message {
        case .submit(let submit):
            try client.open(stream)
            try submitReceived(submit, stream: stream, client)
        case .chunk(let chunk):
            guard let upload = try client.receiveChunk(chunk, on: stream), let job = upload.job, let payload = upload.payload else { return }
            // The job may have ended while its source arrived (cancelled): a stream-mode client already has its
            // outcome; an async one, still waiting for ACCEPTED, is told instead.
            guard coordinator.withState({ $0.isLive(job) }) else {
                if !upload.isStreamMode { send(stream, .rejected(Rejected(code: .cancelled, message: "job \(job) was cancelled before its source was complete"))) }
                return
            }
            send(stream, .accepted(Accepted(jobID: job)))
            let source = PayloadAssembler.chunks(of: payload.bytes, size: Int(limits.maxChunkData))
            coordinator.transition { $0.sourceReceived(job, source: source, now: .now()) }
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
            send(stream, .workers(WorkerList(workers: coordinator.workerList())))
        case .statsRequest:
            try client.open(stream)
            send(stream, .stats(coordinator.stats(for: client.tenant)))
        default:
            guard handleConnectionFrame(frame) else {
                throw ProtocolError.malformed("\(frame.message.frameType) is not expected from a client after the handshake")
            }
        }
    }

    private func submitReceived(_ submit: Submit, stream: UInt32, _ client: ClientLink) throws(ProtocolError) {
        let isStreamMode = submit.mode == .stream
        // The client sends its source right after SUBMIT: a stream that will not use it still swallows it up to END.
        func discardUpload(awaiting: JobID?) {
            client.streams[stream] = ClientLink.Stream(
                upload: .init(job: nil, expected: submit.sourceSize, isStreamMode: isStreamMode), awaiting: awaiting)
        }
        func reject(_ error: ProtocolError) {
            discardUpload(awaiting: nil)
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
            $0.admit(tenant: tenant, submit: submit, variantCount: variantCount, subscriber: isStreamMode ? subscriber : nil, now: .now())
        }
        switch admission {
        case .admitted(let job):
            // A stream-mode submitter awaits the job from the start: an outcome reached during the upload is delivered.
            client.streams[stream] = ClientLink.Stream(
                upload: .init(job: job, expected: submit.sourceSize, isStreamMode: isStreamMode), awaiting: isStreamMode ? job : nil)
        case .duplicate(let job):
            // The earlier job answers for this one; in stream mode its results come back here as for a WATCH.
            send(stream, .accepted(Accepted(jobID: job, duplicate: true)))
            discardUpload(awaiting: isStreamMode ? job : nil)
            if isStreamMode { try watchJob(job, stream: stream, client) }
        case .rejected(let error):
            reject(error)
        }
    }

    private func watchJob(_ job: JobID, stream: UInt32, _ client: ClientLink) throws(ProtocolError) {
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

    private func handleWorker(_ frame: Frame, _ registered: WorkerLink?) throws(ProtocolError) {
        guard let worker = registered else {
            guard case .register(let register) = frame.message else {
                throw ProtocolError.malformed("a worker's first frame after AUTH_OK must be REGISTER, got \(frame.message.frameType)")
            }
            let (id, actions) = coordinator.registerWorker(connection: connectionID, register: register, address: peerAddress)
            coordinator.log("worker \(register.name) (\(peerAddress), \(register.slots) slots) registered as \(id)")
            link = .worker(WorkerLink(workerID: id, maxVariantBytes: limits.maxVariantBytes))
            write(.frame(Frame(.registered(Registered(workerID: id)))))
            coordinator.run(actions)
            return
        }
        let stream = frame.streamID
        let workerID = worker.workerID
        switch frame.message {
        case .heartbeat(let heartbeat):
            coordinator.transition { $0.heartbeat(worker: workerID, tasks: heartbeat.tasks, now: .now()) }
        case .variant(let header):
            try worker.beginVariant(header, on: stream)
        case .chunk(let chunk):
            guard let (task, variant) = try worker.receiveChunk(chunk, on: stream) else { return }
            let route = coordinator.withState {
                $0.variantFinished(worker: workerID, job: task.job, attempt: task.attempt, variantID: variant.header.variantID)
            }
            if case .deliver(let subscribers) = route {
                let chunks = PayloadAssembler.chunks(of: variant.payload.bytes, size: Int(limits.maxChunkData))
                coordinator.deliverVariant(variant.header, chunks: chunks, to: subscribers)
            }
        case .taskDone(let done):
            try worker.endTask(on: stream, job: done.taskID, attempt: done.attempt)
            coordinator.transition { $0.taskDone(worker: workerID, job: done.taskID, attempt: done.attempt, now: .now()) }
        case .taskFailed(let failed):
            try worker.endTask(on: stream, job: failed.taskID, attempt: failed.attempt)
            coordinator.transition {
                $0.taskFailed(worker: workerID, job: failed.taskID, attempt: failed.attempt, code: failed.code,
                              permanent: failed.permanent, message: failed.message, now: .now())
            }
        case .drain:
            coordinator.withState { $0.drain(worker: workerID) }
        default:
            guard handleConnectionFrame(frame) else {
                throw ProtocolError.malformed("\(frame.message.frameType) is not expected from a worker after REGISTER")
            }
        }
    }

    /// Every second, fails admitted uploads that sent nothing for `uploadIdleTimeout`: a client that stops
    /// mid-source must not hold queue room and source bytes that other tenants need.
    private func startStallSweep() {
        guard let context else { return }
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        stallSweep = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            me.value.failStalledUploads()
        }
    }

    private func failStalledUploads() {
        guard case .client(let client) = link else { return }
        let idle = coordinator.settings.uploadIdleTimeout
        for (stream, job) in client.stalledUploads(since: .now() - idle) {
            let isStreamMode = client.streams[stream]?.upload?.isStreamMode ?? false
            client.discardUpload(on: stream)
            let reason = "no source bytes for \(idle.milliseconds) ms"
            coordinator.transition { $0.abandon(job, reason: reason, now: .now()) }
            if !isStreamMode { send(stream, .rejected(Rejected(code: .timeout, message: reason))) }
        }
        context?.flush()
    }

    /// PING, PONG and GOAWAY, the same on both links. Returns false for any other frame.
    private func handleConnectionFrame(_ frame: Frame) -> Bool {
        switch frame.message {
        case .ping(let ping): write(.frame(Frame(.pong(Pong(opaque: ping.opaque)))))
        case .pong: break
        case .goAway: close()
        default: return false
        }
        return true
    }

    // MARK: Deliveries from other connections

    func deliver(_ delivery: Delivery) {
        if case .goAway(let goAway) = delivery {
            if case .client = link { write(.frame(Frame(.goAway(goAway)))) }
            if case .worker = link { write(.frame(Frame(.goAway(goAway)))) }
            return close()
        }
        switch (delivery, link) {
        case (.assign(let assign, let source), .worker(let worker?)):
            let stream = worker.openTask(job: assign.taskID, attempt: assign.attempt)
            write(.frame(Frame(stream: stream, .assign(assign))))
            for chunk in source { write(.frame(Frame(stream: stream, .chunk(chunk)))) }
        case (.cancelTask(let job, let attempt), .worker(let worker?)):
            guard let stream = worker.stream(of: job, attempt: attempt) else { return }
            write(.frame(Frame(stream: stream, .cancelTask(CancelTask(taskID: job, attempt: attempt)))))
        case (.variant(let stream, let header, let chunks), .client(let client)):
            guard client.streams[stream]?.awaiting == header.jobID else { return }
            write(.frame(Frame(stream: stream, .variant(header))))
            for chunk in chunks { write(.frame(Frame(stream: stream, .chunk(chunk)))) }
        case (.outcome(let stream, let message), .client(let client)):
            guard client.streams[stream]?.awaiting != nil else { return }
            client.finishResults(on: stream)
            write(.frame(Frame(stream: stream, message)))
        default:
            return  // the connection closed, or the delivery no longer applies
        }
        scheduleFlush()
    }

    // MARK: Output

    private func send(_ stream: UInt32, _ message: Message) {
        write(.frame(Frame(stream: stream, message)))
    }

    private func write(_ element: WireElement) {
        context?.write(wrapOutboundOut(element), promise: nil)
    }

    /// Deliveries arriving together are flushed together, once.
    private func scheduleFlush() {
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            me.value.flushScheduled = false
            me.value.context?.flush()
        }
    }

    private func fail(_ error: ProtocolError) {
        coordinator.log("closing the connection from \(peerAddress): \(error)")
        guard case .closed = link else {
            write(.frame(Frame(.goAway(GoAway(error)))))
            close()
            return
        }
        close()
    }

    private func close() {
        guard let context else { return }
        context.flush()
        context.close(promise: nil)
    }
}
