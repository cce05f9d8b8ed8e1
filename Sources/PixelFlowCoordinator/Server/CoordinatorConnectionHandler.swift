import Logging
import NIOCore
import PixelFlowProtocol
import PixelFlowTLS

/// One connection to the coordinator: decodes the socket's bytes into frames, feeds them and the channel's other
/// events to its `CoordinatorConnectionStateMachine` and runs the actions it returns — writes (batched until the
/// next flush), timers, reading on and off, requests to the shared `Coordinator`. Decoding and encoding here, not
/// in handlers of their own, keeps frames off the pipeline: passing one between handlers boxes it in an `NIOAny`,
/// which for anything but bytes costs dynamic casts each way. Every method runs on the channel's event loop;
/// other threads reach it only through `ConnectionHandle.deliver`.
final class CoordinatorConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let coordinator: Coordinator
    // Internal, not private: the FETCH sender (CoordinatorConnectionHandler+Fetch.swift) runs actions too.
    var machine: CoordinatorConnectionStateMachine
    var context: ChannelHandlerContext?
    private var peer = ConnectionInfo(id: 0, address: "unknown", host: "unknown")
    private var handshakeDeadline: Scheduled<Void>?
    private var housekeeping: RepeatedTask?
    private var flushScheduled = false
    private var decoder: NIOSingleStepByteToMessageProcessor<FrameDecoder>
    /// Set by the first malformed frame: nothing after it is read.
    private var decodingFailed = false
    /// This side closed the connection (possibly from inside `decoder.process`, which then must not be re-entered):
    /// frames still in that read are dropped.
    private var isClosing = false
    /// Frames written since the last flush.
    private var batch = FrameBatch()
    /// While a read is handled (`isHoldingDeliveries`), the deliveries its requests cause for other connections,
    /// sent together at its end: one hop per connection per read, not one per frame.
    private var heldDeliveries = Deliveries()
    private var isHoldingDeliveries = false
    private let byteCounter: ByteCountingHandler
    private let frameClock: PartialFrameClock

    init(
        coordinator: Coordinator, byteCounter: ByteCountingHandler, frameClock: PartialFrameClock,
        requiresWorkerCertificate: Bool = false
    ) {
        self.coordinator = coordinator
        self.byteCounter = byteCounter
        self.frameClock = frameClock
        let settings = coordinator.settings
        self.decoder = NIOSingleStepByteToMessageProcessor(
            FrameDecoder(limits: settings.limits, from: [.client, .worker], partialFrameClock: frameClock))
        let handshake = ServerHandshakeStateMachine(
            secrets: coordinator.secrets, limits: settings.limits, serverName: "pixelflow-coordinator",
            heartbeatIntervalMilliseconds: settings.heartbeatInterval.milliseconds,
            leaseMilliseconds: settings.lease.milliseconds)
        self.machine = CoordinatorConnectionStateMachine(
            handshake: handshake, settings: settings, validatePipeline: coordinator.validatePipeline, now: .now())
        self.machine.requiresWorkerCertificate = requiresWorkerCertificate
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
        coordinator.metrics.connectionsOpened.increment()
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        let id = coordinator.newConnectionID()
        coordinator.register(
            ConnectionHandle(
                id: id, eventLoop: context.eventLoop, handler: me, closeFuture: context.channel.closeFuture))
        let remote = context.channel.remoteAddress
        peer = ConnectionInfo(id: id, address: remote?.hostAndPort ?? "unknown", host: remote?.ipAddress ?? "unknown")
        let timeout = TimeAmount.milliseconds(Int64(coordinator.settings.limits.handshakeTimeoutMilliseconds))
        handshakeDeadline = context.eventLoop.scheduleTask(in: timeout) {
            me.value.run(me.value.machine.handshakeTimedOut(now: .now()))
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !isHoldingDeliveries {
            isHoldingDeliveries = true
            // Sent at the read's end (channelReadComplete) or, where nothing says so, once this tick is over.
            let me = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.execute { me.value.sendHeldDeliveries() }
        }
        guard !decodingFailed else { return }
        do {
            try decoder.process(buffer: unwrapInboundIn(data)) { element in
                guard !isClosing else { return }
                run(machine.received(element, now: .now()))
            }
        } catch let error as ProtocolError {
            failDecoding(error)
        } catch {
            close()
        }
    }

    private func failDecoding(_ error: ProtocolError) {
        decodingFailed = true
        coordinator.metrics.protocolErrors.increment()
        run(machine.decodingFailed(error, now: .now()))
    }

    /// TLS tells when its handshake is done, before any byte is read: whether the peer showed a certificate.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let showed = ServerTLS.peerShowedCertificate(afterHandshake: event, on: context.channel) {
            machine.peerShowedCertificate = showed
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        sendHeldDeliveries()
        flush()
    }

    private func sendHeldDeliveries() {
        guard isHoldingDeliveries else { return }
        isHoldingDeliveries = false
        let deliveries = heldDeliveries
        heldDeliveries = Deliveries()
        deliveries.send()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        run(machine.writabilityChanged(context.channel.isWritable, output: output, now: .now()))
        context.fireChannelWritabilityChanged()
    }

    /// Errors from below (TLS, the socket): frames are decoded in `channelRead`, so none is a protocol error.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A peer that leaves inside a frame broke the framing too (it is counted, as any malformed frame is).
        if !decodingFailed, !isClosing, (try? decoder.finishProcessing(seenEOF: true) { _ in }) == nil {
            coordinator.metrics.protocolErrors.increment()
        }
        handshakeDeadline?.cancel()
        housekeeping?.cancel()
        coordinator.unregister(peer.id)
        run(machine.closed())
        sendHeldDeliveries()
        context.fireChannelInactive()
    }

    /// Work or results from other connections' events, flushed together.
    func deliver(_ deliveries: [Delivery]) {
        for delivery in deliveries { run(machine.deliver(delivery)) }
        scheduleFlush()
    }

    // MARK: Actions

    func run(_ actions: [ConnectionAction]) {
        for action in actions { run(action) }
    }

    private func run(_ action: ConnectionAction) {
        switch action {
        case .write(let element):
            write(element)
        case .writeWithChunks(let stream, let message, let chunks):
            write(.frame(Frame(stream: stream, message)))
            for chunk in chunks { write(.frame(Frame(stream: stream, .chunk(chunk)))) }
        case .established(let reply):
            handshakeDeadline?.cancel()
            write(reply)
            startHousekeeping()
        case .refuse(let error, let elements):
            coordinator.metrics.handshakeFailures.increment()
            coordinator.logger.warning("handshake refused: \(error)", metadata: peer.metadata)
            elements.forEach(write)
            close()
        case .fail(let error):
            coordinator.logger.notice("closing the connection: \(error)", metadata: peer.metadata)
            write(.frame(Frame(.goAway(GoAway(error)))))
            close()
        case .close:
            close()
        case .pauseReading:
            setReading(false)
        case .resumeReading(let pause):
            frameClock.shift(by: pause)
            setReading(true)
        case .cluster(let request):
            let (reply, deliveries) = coordinator.perform(request, from: peer)
            if let reply { run(machine.clusterReplied(reply, now: .now())) }
            if isHoldingDeliveries {
                heldDeliveries.append(contentsOf: deliveries)
            } else {
                deliveries.send()
            }
        case .queryStore(let stream, let query, let tenant):
            guard let context else { return }
            let me = NIOLoopBound(self, eventLoop: context.eventLoop)
            let (eventLoop, coordinator) = (context.eventLoop, self.coordinator)
            Task {
                let result = await coordinator.answer(query, tenant: tenant)
                eventLoop.execute {
                    me.value.run(me.value.machine.storeQueryAnswered(on: stream, result))
                    me.value.scheduleFlush()
                }
            }
        case .readStoredResult(let stream, let job, let tenant):
            guard let context else { return }
            let me = NIOLoopBound(self, eventLoop: context.eventLoop)
            let (eventLoop, coordinator) = (context.eventLoop, self.coordinator)
            Task {
                await CoordinatorConnectionHandler.fetch(
                    job, tenant: tenant, on: stream, handler: me, eventLoop: eventLoop, coordinator: coordinator)
            }
        }
    }

    private func write(_ element: WireElement) {
        guard let context else { return }
        batch.append(element, allocator: context.channel.allocator) { context.write(wrapOutboundOut($0), promise: nil) }
    }

    /// Hands what was written since the last flush to the socket.
    func flush() {
        guard let context else { return }
        if let pending = batch.take() { context.write(wrapOutboundOut(pending), promise: nil) }
        context.flush()
    }

    private func close() {
        guard let context else { return }
        isClosing = true
        flush()
        context.close(promise: nil)
    }

    func scheduleFlush() {
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            me.value.flushScheduled = false
            me.value.flush()
            me.value.run(me.value.machine.flushed(output: me.value.output))
        }
    }

    // MARK: Timers and the socket

    private func startHousekeeping() {
        guard let context else { return }
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        housekeeping = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            let handler = me.value
            handler.run(
                handler.machine.housekeep(
                    now: .now(), output: handler.output, partialFrameSince: handler.frameClock.pendingSince))
            handler.flush()
        }
    }

    /// Bytes handed to the socket so far, and bytes still queued in the channel.
    var output: OutputLevel {
        let buffered = UInt64(clamping: (try? context?.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0)
        return OutputLevel(drained: byteCounter.connectionBytesOut &- buffered, buffered: buffered)
    }

    private func setReading(_ reading: Bool) {
        try? context?.channel.syncOptions?.setOption(.autoRead, value: reading)
        if reading { context?.read() }
    }
}
