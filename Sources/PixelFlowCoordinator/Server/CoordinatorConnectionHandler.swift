import Logging
import NIOCore
import PixelFlowProtocol

/// One connection to the coordinator: runs the handshake, then the client or worker link, and guards the
/// connection: idle and partial-frame timeouts, backpressure towards a peer that reads slowly or not at all.
/// Every method runs on the channel's event loop; other threads reach it only through `ConnectionHandle.deliver`.
final class CoordinatorConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = WireElement
    typealias OutboundOut = WireElement

    enum Link {
        case handshaking
        case client(ClientLink)
        /// Authenticated as a worker; `nil` until its REGISTER.
        case worker(WorkerLink?)
        case closed
    }

    let coordinator: Coordinator
    private var handshake: ServerHandshakeStateMachine
    var link = Link.handshaking
    private(set) var context: ChannelHandlerContext?
    private(set) var connectionID: UInt64 = 0
    private var deadline: Scheduled<Void>?
    private var housekeeping: RepeatedTask?
    private var flushScheduled = false
    private let byteCounter: ByteCountingHandler
    private let frameClock: PartialFrameClock
    /// Frames received so far, and when housekeeping last saw that count change: idleness without reading the
    /// clock on every frame.
    private var framesReceived = 0
    private var framesAtLastCheck = 0
    private var lastActivityAt = NIODeadline.now()
    private var pressure: OutboundPressure
    /// Set while the coordinator has stopped reading this client for backpressure: its timeouts are suspended
    /// (what it sent meanwhile is unread through no fault of its own) and shifted by the pause afterwards.
    private var readingPausedAt: NIODeadline?
    var settings: CoordinatorSettings { coordinator.settings }
    var limits: ProtocolLimits { coordinator.settings.limits }
    var peerAddress: String { context?.channel.remoteAddress?.hostAndPort ?? "unknown" }
    private var peerHost: String { context?.channel.remoteAddress?.ipAddress ?? "unknown" }

    init(coordinator: Coordinator, byteCounter: ByteCountingHandler, frameClock: PartialFrameClock) {
        self.coordinator = coordinator
        self.byteCounter = byteCounter
        self.frameClock = frameClock
        self.pressure = OutboundPressure(budget: coordinator.settings.maxOutboundBytes, stallTimeout: coordinator.settings.writeStallTimeout)
        self.handshake = ServerHandshakeStateMachine(
            secrets: coordinator.secrets, limits: coordinator.settings.limits, serverName: "pixelflow-coordinator",
            heartbeatIntervalMilliseconds: coordinator.settings.heartbeatInterval.milliseconds,
            leaseMilliseconds: coordinator.settings.lease.milliseconds)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// The context holds this handler: dropping our reference breaks the cycle, so the connection is freed.
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        coordinator.metrics.connectionsOpened.add(1, ordering: .relaxed)
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        connectionID = coordinator.register(ConnectionHandle(eventLoop: context.eventLoop, handler: me, closeFuture: context.channel.closeFuture))
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
            if case .frame(let frame) = element, case .auth = frame.message, let wait = coordinator.loginWait(for: peerHost) {
                let error = ProtocolError(.loginThrottled, "too many failed logins from this address: retry in \(wait.milliseconds) ms")
                return handshakeAction(handshake.refuse(error))
            }
            handshakeAction(handshake.receive(element))
        case .client, .worker:
            framesReceived &+= 1
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

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        switch pressure.writabilityChanged(context.channel.isWritable, drained: drainedBytes, now: now) {
        case .none:
            break
        case .stopReading:
            // Only a client's requests are held back; a worker's inbound (heartbeats, results) is bounded by its
            // credits and must keep flowing, or its leases would expire.
            if case .client = link {
                setReading(false)
                readingPausedAt = now
            }
            checkCongestion()
        case .resumeReading(let relieved):
            if let pausedAt = readingPausedAt {
                readingPausedAt = nil
                resumeTimeouts(after: now - pausedAt, now: now)
                setReading(true)
            }
            if relieved { relieveCongestion() }
        }
        context.fireChannelWritabilityChanged()
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
        housekeeping?.cancel()
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
            coordinator.logger.info("worker disconnected; its tasks are requeued", metadata: ["worker": "\(worker.workerID)", "peer": "\(peerAddress)"])
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
            coordinator.loginSucceeded(from: peerHost)
            write(reply)
            switch peer.role {
            case .client: link = .client(ClientLink(tenant: peer.keyID, maxInFlight: Int(limits.maxInFlight)))
            case .worker: link = .worker(nil)
            case .coordinator: return fail(ProtocolError(.wrongRole, "a coordinator cannot connect to a coordinator"))
            }
            lastActivityAt = .now()
            startHousekeeping()
        case .fail(let error, let elements):
            coordinator.metrics.handshakeFailures.add(1, ordering: .relaxed)
            if error.code == .unauthorized { coordinator.loginFailed(from: peerHost) }
            coordinator.logger.warning("handshake refused: \(error)", metadata: ["peer": "\(peerAddress)"])
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

    /// PING, PONG and GOAWAY, the same on both links: PING is answered, GOAWAY closes (the peer is leaving; its
    /// streams end with the connection).
    func handleConnectionFrame(_ message: Message) {
        if case .ping(let ping) = message {
            write(.frame(Frame(.pong(Pong(opaque: ping.opaque)))))
        } else if case .goAway = message {
            close()
        }
    }

    // MARK: Timeouts

    /// Once a second: uploads that stalled or overran their deadline, idle connections, half-sent frames, and
    /// peers that stopped reading.
    private func startHousekeeping() {
        guard let context else { return }
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        housekeeping = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            me.value.housekeep()
        }
    }

    private func housekeep() {
        let now = NIODeadline.now()
        if framesReceived != framesAtLastCheck {
            framesAtLastCheck = framesReceived
            lastActivityAt = now
        }
        if pressure.isStalled(drained: drainedBytes, now: now) {
            return fail(ProtocolError(.slowReader, "nothing sent to this peer was read for \(settings.writeStallTimeout.milliseconds) ms"))
        }
        if isOverHardCap {
            return fail(ProtocolError(.slowReader, "over \(4 * settings.maxOutboundBytes) bytes queued for this peer"))
        }
        // While reading is paused for backpressure, what the peer sent is unread through the coordinator's doing.
        guard readingPausedAt == nil else { return }
        if let since = frameClock.pendingSince, now - since >= settings.frameTimeout {
            return fail(ProtocolError(.idleTimeout, "a frame started \((now - since).milliseconds) ms ago and is still incomplete"))
        }
        let isIdle: Bool
        switch link {
        case .client(let client):
            expireUploads(client, now: now)
            isIdle = client.streams.isEmpty
        case .worker:
            isIdle = true  // a live worker sends HEARTBEATs
        case .handshaking, .closed:
            return
        }
        if isIdle, now - lastActivityAt >= settings.idleTimeout {
            fail(ProtocolError(.idleTimeout, "no request and no PING for \(settings.idleTimeout.milliseconds) ms"))
        }
        context?.flush()
    }

    // MARK: Backpressure

    /// A peer that drains a trickle never stalls, yet may be sent results of jobs it shares with another
    /// connection: four budgets queued is the hard limit.
    private var isOverHardCap: Bool {
        !pressure.isWritable && bufferedBytes > 4 * settings.maxOutboundBytes
    }

    /// Reading resumes after `pause`: the client's clocks move forward by it.
    private func resumeTimeouts(after pause: TimeAmount, now: NIODeadline) {
        lastActivityAt = now
        frameClock.shift(by: pause)
        if case .client(let client) = link { client.extendUploads(by: pause) }
    }

    /// Bytes this connection has handed to the socket so far.
    private var drainedBytes: UInt64 {
        byteCounter.connectionBytesOut &- bufferedBytes
    }

    private var bufferedBytes: UInt64 {
        UInt64(clamping: (try? context?.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0)
    }

    private func setReading(_ reading: Bool) {
        try? context?.channel.syncOptions?.setOption(.autoRead, value: reading)
        if reading { context?.read() }
    }

    /// Over the byte budget: work whose results would queue up here more waits.
    private func checkCongestion() {
        guard !pressure.isWritable, pressure.queued(buffered: bufferedBytes) else { return }
        coordinator.logger.notice(
            "over \(settings.maxOutboundBytes) bytes queued: its work waits", metadata: ["connection": "\(connectionID)", "peer": "\(peerAddress)"])
        switch link {
        case .client:
            let connection = connectionID
            coordinator.withState { $0.connectionCongested(connection) }
        case .worker(let worker?):
            let id = worker.workerID
            coordinator.transition { $0.workerCongested(id, true, now: .now()) }
        case .worker(nil), .handshaking, .closed:
            break
        }
    }

    private func relieveCongestion() {
        switch link {
        case .client:
            let connection = connectionID
            coordinator.transition { $0.connectionRelieved(connection, now: .now()) }
        case .worker(let worker?):
            let id = worker.workerID
            coordinator.transition { $0.workerCongested(id, false, now: .now()) }
        case .worker(nil), .handshaking, .closed:
            break
        }
    }

    // MARK: Output

    func send(_ stream: UInt32, _ message: Message) {
        write(.frame(Frame(stream: stream, message)))
    }

    func write(_ element: WireElement) {
        context?.write(wrapOutboundOut(element), promise: nil)
    }

    /// Deliveries arriving together are flushed together, once.
    func scheduleFlush() {
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            me.value.flushScheduled = false
            me.value.context?.flush()
            me.value.checkCongestion()
        }
    }

    func fail(_ error: ProtocolError) {
        coordinator.logger.notice("closing the connection: \(error)", metadata: ["peer": "\(peerAddress)"])
        guard case .closed = link else {
            write(.frame(Frame(.goAway(GoAway(error)))))
            close()
            return
        }
        close()
    }

    func close() {
        guard let context else { return }
        context.flush()
        context.close(promise: nil)
    }
}
