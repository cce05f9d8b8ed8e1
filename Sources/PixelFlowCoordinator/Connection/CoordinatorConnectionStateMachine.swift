import NIOCore
import PixelFlowProtocol

/// One connection to the coordinator, as a pure state machine: the handshake, then the client or worker link,
/// and the guards every connection has (idle and partial-frame timeouts, backpressure towards a slow reader).
/// Events in — a frame, a timer, a change of writability, a delivery, the cluster's reply — and actions out;
/// `CoordinatorConnectionHandler` only runs them. No clock, lock or channel in here: the time comes with events.
struct CoordinatorConnectionStateMachine {
    private enum State {
        case handshaking(ServerHandshakeStateMachine)
        /// An AUTH waits while the coordinator checks its address's failed logins.
        case checkingLogin(ServerHandshakeStateMachine, auth: WireElement)
        case client(ClientLink)
        /// Authenticated as a worker (speaking this protocol version), before its REGISTER is answered; the
        /// REGISTER's bits once it came.
        case unregisteredWorker(version: UInt8, formats: OutputFormats = [])
        case worker(WorkerLink)
        case closed
        /// Only while a link is updated in place (no copy of its tables).
        case modifying
    }

    private var state: State
    private let settings: CoordinatorSettings
    private let clientRules: ClientRules
    /// A GOAWAY or refusal was issued: whatever else the peer sends is ignored until the channel closes.
    private var isClosing = false
    private var pressure: OutboundPressure
    /// Frames received so far, and when housekeeping last saw that count change: idleness without reading the
    /// clock on every frame.
    private var framesReceived = 0
    private var framesAtLastCheck = 0
    private var lastActivityAt: NIODeadline
    /// Set while the coordinator has stopped reading this client for backpressure: its timeouts are suspended
    /// (what it sent meanwhile is unread through no fault of its own) and shifted by the pause afterwards.
    private var readingPausedAt: NIODeadline?
    /// Mutual TLS for workers (`tls.client_ca`): a peer authenticating as a worker must have shown a certificate
    /// that chains to the client CA. `peerShowedCertificate` is the TLS layer's verdict, set before AUTH is read.
    var requiresWorkerCertificate = false
    var peerShowedCertificate = false

    init(
        handshake: ServerHandshakeStateMachine, settings: CoordinatorSettings,
        validatePipeline: @escaping PipelineValidator, now: NIODeadline
    ) {
        self.state = .handshaking(handshake)
        self.settings = settings
        self.clientRules = ClientRules(settings: settings, validatePipeline: validatePipeline)
        self.pressure = OutboundPressure(budget: settings.maxOutboundBytes, stallTimeout: settings.writeStallTimeout)
        self.lastActivityAt = now
    }

    // MARK: Inbound

    /// `now` is read only where the time matters (handshake, client requests and uploads), not for a worker's
    /// heartbeats and results.
    mutating func received(_ element: WireElement, now: @autoclosure () -> NIODeadline) -> [ConnectionAction] {
        guard !isClosing else { return [] }
        switch state {
        case .handshaking(var handshake):
            if case .frame(let frame) = element, case .auth = frame.message {
                state = .checkingLogin(handshake, auth: element)
                return [.cluster(.loginAllowed)]
            }
            let action = handshake.receive(element)
            state = .handshaking(handshake)
            return handshakeActions(action, now: now())
        case .checkingLogin:
            return fail(ProtocolError.malformed("a frame arrived while the AUTH was being checked"))
        case .client(var client):
            framesReceived &+= 1
            guard case .frame(let frame) = element else { return fail(ProtocolError.malformed("second preface")) }
            state = .modifying
            defer { state = .client(client) }
            do throws(ProtocolError) {
                try Self.require(.client, sent: frame)
                guard let message = ClientToCoordinator(frame.message) else {
                    throw ProtocolError.malformed(
                        "\(frame.message.frameType) is not expected from a client after the handshake")
                }
                return try client.receive(message, on: frame.streamID, now: now())
            } catch {
                return fail(error)
            }
        case .unregisteredWorker(let version, _):
            framesReceived &+= 1
            guard case .frame(let frame) = element, case .register(var register) = frame.message else {
                return fail(ProtocolError.malformed("a worker's first frame after AUTH_OK must be REGISTER"))
            }
            // ASSIGN_OBJECT and `decode_ms` are v2's: on a v1 connection their bits are reserved ones, ignored.
            if version < ProtocolVersion.v2 { register.formats.subtract([.objects, .timings]) }
            state = .unregisteredWorker(version: version, formats: register.formats)
            return [.cluster(.registerWorker(register))]
        case .worker(var worker):
            framesReceived &+= 1
            guard case .frame(let frame) = element else { return fail(ProtocolError.malformed("second preface")) }
            state = .modifying
            defer { state = .worker(worker) }
            do throws(ProtocolError) {
                try Self.require(.worker, sent: frame)
                guard let message = WorkerToCoordinator(frame.message) else {
                    throw ProtocolError.malformed(
                        "\(frame.message.frameType) is not expected from a worker after REGISTER")
                }
                return try worker.receive(message, on: frame.streamID, chunkSize: Int(settings.limits.maxChunkData))
            } catch {
                return fail(error)
            }
        case .closed, .modifying:
            return []
        }
    }

    /// The decoder refused the bytes (a malformed frame, a limit exceeded).
    mutating func decodingFailed(_ error: ProtocolError, now: NIODeadline) -> [ConnectionAction] {
        guard case .handshaking(var handshake) = state else { return fail(error) }
        let action = handshake.decodingFailed(error)
        state = .handshaking(handshake)
        return handshakeActions(action, now: now)
    }

    private static func require(_ role: PeerRole, sent frame: Frame) throws(ProtocolError) {
        guard frame.message.frameType.senderBits & role.bit != 0 else {
            throw ProtocolError(.wrongRole, "a \(role) may not send \(frame.message.frameType)")
        }
    }

    // MARK: The cluster's answers and deliveries

    mutating func clusterReplied(_ reply: ClusterReply, now: NIODeadline) -> [ConnectionAction] {
        switch state {
        case .checkingLogin(var handshake, let auth):
            guard case .loginWait(let wait) = reply else { return [] }
            let action: ServerHandshakeStateMachine.Action
            if let wait {
                action = handshake.refuse(
                    ProtocolError(
                        .loginThrottled, "too many failed logins from this address: retry in \(wait.milliseconds) ms"))
            } else {
                action = handshake.receive(auth)
            }
            state = .handshaking(handshake)
            return handshakeActions(action, now: now)
        case .unregisteredWorker(let version, let formats):
            guard case .registered(let id) = reply else { return [] }
            state = .worker(
                WorkerLink(
                    workerID: id, version: version, formats: formats, maxVariantBytes: settings.limits.maxVariantBytes))
            return [.write(.frame(Frame(.registered(Registered(workerID: id)))))]
        case .client(var client):
            state = .modifying
            defer { state = .client(client) }
            return client.clusterReplied(reply, now: now)
        case .handshaking, .worker, .closed, .modifying:
            return []  // nothing this state asked for
        }
    }

    /// One variant of a FETCH was read from the store.
    func storedVariantRead(
        _ job: JobID, on stream: UInt32, _ header: VariantHeader, _ bytes: ByteBuffer
    ) -> [ConnectionAction] {
        guard case .client(let client) = state else { return [] }
        return client.storedVariantRead(job, on: stream, header, bytes)
    }

    /// A FETCH ended: its outcome, or why it failed.
    mutating func storedResultEnded(
        _ job: JobID, on stream: UInt32, _ result: Result<Message, ProtocolError>
    ) -> [ConnectionAction] {
        guard case .client(var client) = state else { return [] }
        state = .modifying
        defer { state = .client(client) }
        return client.storedResultEnded(job, on: stream, result)
    }

    /// Whether the FETCH of `job` on `stream` still wants its variants.
    func isFetching(_ job: JobID, on stream: UInt32) -> Bool {
        guard case .client(let client) = state else { return false }
        return client.isFetching(job, on: stream)
    }

    /// A store query (JOBS_REQUEST, USAGE_REQUEST) was answered.
    mutating func storeQueryAnswered(
        on stream: UInt32, _ result: Result<Message, ProtocolError>
    ) -> [ConnectionAction] {
        guard case .client(let client) = state else { return [] }
        return client.storeQueryAnswered(on: stream, result)
    }

    /// Work or results for this connection, from another connection's event.
    mutating func deliver(_ delivery: Delivery) -> [ConnectionAction] {
        if case .goAway(let goAway, let closeNow, let clientsOnly) = delivery {
            let notice = ConnectionAction.write(.frame(Frame(.goAway(goAway))))
            let isTold: Bool
            switch state {
            case .client: isTold = true
            case .worker, .unregisteredWorker: isTold = !clientsOnly
            case .handshaking, .checkingLogin, .closed, .modifying: isTold = false
            }
            return (isTold ? [notice] : []) + (closeNow ? [.close] : [])
        }
        switch state {
        case .client(var client):
            state = .modifying
            defer { state = .client(client) }
            return client.deliver(delivery)
        case .worker(var worker):
            state = .modifying
            defer { state = .worker(worker) }
            return worker.deliver(delivery)
        case .handshaking, .checkingLogin, .unregisteredWorker, .closed, .modifying:
            return []  // the connection closed, or the delivery no longer applies
        }
    }

    // MARK: Handshake

    mutating func handshakeTimedOut(now: NIODeadline) -> [ConnectionAction] {
        guard case .handshaking(var handshake) = state else { return [] }
        let action = handshake.deadlineExpired()
        state = .handshaking(handshake)
        return handshakeActions(action, now: now)
    }

    private mutating func handshakeActions(
        _ action: ServerHandshakeStateMachine.Action, now: NIODeadline
    ) -> [ConnectionAction] {
        switch action {
        case .send(let elements):
            return elements.map { .write($0) }
        case .established(let peer, let reply):
            lastActivityAt = now
            switch peer.role {
            case .client:
                state = .client(ClientLink(tenant: peer.keyID, version: peer.version, rules: clientRules))
            case .worker:
                if requiresWorkerCertificate && !peerShowedCertificate {
                    isClosing = true
                    let error = ProtocolError(
                        .unauthorized, "a worker must show a TLS client certificate of the cluster's CA (tls.client_ca)"
                    )
                    return [.cluster(.loginFailed), .refuse(error, send: [.frame(Frame(.goAway(GoAway(error))))])]
                }
                state = .unregisteredWorker(version: peer.version)
            case .coordinator:
                return fail(ProtocolError(.wrongRole, "a coordinator cannot connect to a coordinator"))
            }
            return [.cluster(.loginSucceeded), .established(reply: reply)]
        case .fail(let error, let elements):
            isClosing = true
            let refusal = ConnectionAction.refuse(error, send: elements)
            return error.code == .unauthorized ? [.cluster(.loginFailed), refusal] : [refusal]
        case .none:
            return []
        }
    }

    private mutating func fail(_ error: ProtocolError) -> [ConnectionAction] {
        guard !isClosing else { return [] }
        isClosing = true
        return [.fail(error)]
    }

    // MARK: Closing

    /// The channel closed: what the cluster must forget or requeue.
    mutating func closed() -> [ConnectionAction] {
        let ended = state
        state = .closed
        switch ended {
        case .client(let client): return [.cluster(.clientClosed(unfinishedUploads: client.unfinishedUploads))]
        case .worker(let worker): return [.cluster(.workerClosed(worker.workerID))]
        case .handshaking, .checkingLogin, .unregisteredWorker, .closed, .modifying: return []
        }
    }
}

// MARK: Timeouts and backpressure

extension CoordinatorConnectionStateMachine {
    /// Once a second: uploads that stalled or overran their deadline, idle connections, half-sent frames, and
    /// peers that stopped reading.
    mutating func housekeep(
        now: NIODeadline, output: OutputLevel, partialFrameSince: NIODeadline?
    ) -> [ConnectionAction] {
        guard !isClosing else { return [] }
        if framesReceived != framesAtLastCheck {
            framesAtLastCheck = framesReceived
            lastActivityAt = now
        }
        if pressure.isStalled(drained: output.drained, now: now) {
            return fail(
                ProtocolError(
                    .slowReader, "nothing sent to this peer was read for \(settings.writeStallTimeout.milliseconds) ms")
            )
        }
        // A peer that drains a trickle never stalls, yet may be sent results of jobs it shares with another
        // connection: four budgets queued is the hard limit.
        if !pressure.isWritable, output.buffered > 4 * settings.maxOutboundBytes {
            return fail(ProtocolError(.slowReader, "over \(4 * settings.maxOutboundBytes) bytes queued for this peer"))
        }
        // While reading is paused for backpressure, what the peer sent is unread through the coordinator's doing.
        guard readingPausedAt == nil else { return [] }
        if let since = partialFrameSince, now - since >= settings.frameTimeout {
            return fail(
                ProtocolError(
                    .idleTimeout, "a frame started \((now - since).milliseconds) ms ago and is still incomplete"))
        }
        var actions: [ConnectionAction] = []
        let isIdle: Bool
        switch state {
        case .client(var client):
            state = .modifying
            actions = client.expireUploads(now: now)
            isIdle = client.streams.isEmpty
            state = .client(client)
        case .worker, .unregisteredWorker:
            isIdle = true  // a live worker sends HEARTBEATs
        case .handshaking, .checkingLogin, .closed, .modifying:
            return []
        }
        if isIdle, now - lastActivityAt >= settings.idleTimeout {
            return actions
                + fail(
                    ProtocolError(.idleTimeout, "no request and no PING for \(settings.idleTimeout.milliseconds) ms"))
        }
        return actions
    }

    mutating func writabilityChanged(_ isWritable: Bool, output: OutputLevel, now: NIODeadline) -> [ConnectionAction] {
        switch pressure.writabilityChanged(isWritable, drained: output.drained, now: now) {
        case .none:
            return []
        case .stopReading:
            // Only a client's requests are held back; a worker's inbound (heartbeats, results) is bounded by its
            // credits and must keep flowing, or its leases would expire.
            var actions: [ConnectionAction] = []
            if case .client = state {
                readingPausedAt = now
                actions.append(.pauseReading)
            }
            return actions + congestion(output)
        case .resumeReading(let relieved):
            var actions: [ConnectionAction] = []
            if let pausedAt = readingPausedAt {
                readingPausedAt = nil
                let pause = now - pausedAt
                lastActivityAt = now
                if case .client(var client) = state {
                    state = .modifying
                    client.extendUploads(by: pause)
                    state = .client(client)
                }
                actions.append(.resumeReading(pausedFor: pause))
            }
            if relieved { actions += congestionRequest(false) }
            return actions
        }
    }

    /// Queued writes were flushed: over the byte budget, work whose results would queue up here more waits.
    /// `output` is read only while the socket is full: asking the channel costs more than the rest of a flush.
    mutating func flushed(output: @autoclosure () -> OutputLevel) -> [ConnectionAction] {
        congestion(output())
    }

    private mutating func congestion(_ output: @autoclosure () -> OutputLevel) -> [ConnectionAction] {
        guard !pressure.isWritable, pressure.queued(buffered: output().buffered) else { return [] }
        return congestionRequest(true)
    }

    private func congestionRequest(_ congested: Bool) -> [ConnectionAction] {
        switch state {
        case .client: [.cluster(.clientCongested(congested))]
        case .worker(let worker): [.cluster(.workerCongested(worker.workerID, congested))]
        case .handshaking, .checkingLogin, .unregisteredWorker, .closed, .modifying: []
        }
    }
}
