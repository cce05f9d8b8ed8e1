import NIOCore
import NIOEmbedded
import PixelFlowProtocol
import Testing

@testable import PixelFlowCoordinator

/// The real connection handler on `NIOAsyncTestingChannel`s, with fake peers speaking `WireElement`s: the handler
/// running its state machine's actions, and one shared `Coordinator` relaying between a client and a worker.
@Suite("Coordinator connection handler", .timeLimit(.minutes(1)))
struct CoordinatorChannelTests {
    static let clientSecret: [UInt8] = Array(repeating: 1, count: 32)
    static let workerSecret: [UInt8] = Array(repeating: 2, count: 32)
    static let pipeline = #"[{"id":"t","action":"resize","width":10,"format":"png"}]"#

    static func coordinator(_ settings: CoordinatorSettings = CoordinatorSettings()) -> Coordinator {
        Coordinator(
            settings: settings, tenants: [TenantPolicy(keyID: "acme", secret: clientSecret)],
            workerKeys: ["workers": workerSecret])
    }

    /// A channel with the coordinator's handler, connected (so `channelActive` has run). The test speaks
    /// `WireElement`s to it, or raw bytes with `speakingBytes`.
    static func connection(
        to coordinator: Coordinator, speakingBytes: Bool = false
    ) async throws -> NIOAsyncTestingChannel {
        let channel = NIOAsyncTestingChannel()
        try await channel.testingEventLoop.executeInContext {
            let counter = ByteCountingHandler(metrics: coordinator.metrics)
            if !speakingBytes { try channel.pipeline.syncOperations.addHandler(WireElementCodec()) }
            try channel.pipeline.syncOperations.addHandler(
                CoordinatorConnectionHandler(
                    coordinator: coordinator, byteCounter: counter, frameClock: PartialFrameClock()))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_000))
        return channel
    }

    /// Runs the peer's side of the handshake; returns once AUTH_OK is in.
    static func handshake(
        _ channel: NIOAsyncTestingChannel, role: PeerRole, keyID: String, secret: [UInt8]
    ) async throws {
        var peer = ClientHandshakeStateMachine(role: role, keyID: keyID, secret: secret)
        try await channel.writeInbound(peer.opening)
        while true {
            let element = try await channel.waitForOutboundWrite(as: WireElement.self)
            switch peer.receive(element) {
            case .send(let elements):
                for element in elements { try await channel.writeInbound(element) }
            case .established:
                return
            case .fail(let error):
                throw error
            case .none:
                continue
            }
        }
    }

    static func frames(_ channel: NIOAsyncTestingChannel, count: Int) async throws -> [Frame] {
        var frames: [Frame] = []
        while frames.count < count {
            guard case .frame(let frame) = try await channel.waitForOutboundWrite(as: WireElement.self) else {
                continue
            }
            frames.append(frame)
        }
        return frames
    }

    @Test("a stream job goes from a client channel to a worker channel and its variant and outcome come back")
    func jobRoundTrip() async throws {
        let coordinator = Self.coordinator()
        let worker = try await Self.connection(to: coordinator)
        try await Self.handshake(worker, role: .worker, keyID: "workers", secret: Self.workerSecret)
        try await worker.writeInbound(
            WireElement.frame(Frame(.register(Register(name: "w", slots: 1, formats: [.png], version: "1")))))
        guard case .registered = try await Self.frames(worker, count: 1)[0].message else {
            Issue.record("no REGISTERED")
            return
        }

        let client = try await Self.connection(to: coordinator)
        try await Self.handshake(client, role: .client, keyID: "acme", secret: Self.clientSecret)
        let source: [UInt8] = [9, 8, 7]
        try await client.writeInbound(
            WireElement.frame(
                Frame(stream: 1, .submit(Submit(sourceSize: 3, pipeline: ByteBuffer(string: Self.pipeline))))))
        try await client.writeInbound(
            WireElement.frame(Frame(stream: 1, .chunk(Chunk(raw: ByteBuffer(bytes: source), isLast: true)))))
        #expect(try await Self.frames(client, count: 1).map(\.message.frameType) == [.accepted])

        let task = try await Self.frames(worker, count: 2)
        guard case .assign(let assign) = task[0].message, case .chunk(let chunk) = task[1].message else {
            Issue.record("no ASSIGN and source: \(task.map(\.message.frameType))")
            return
        }
        #expect(try chunk.decoded() == ByteBuffer(bytes: source) && task[0].streamID == 2)
        let header = VariantHeader(
            jobID: assign.taskID, attempt: assign.attempt, variantID: "t", format: "png", width: 1, height: 1, size: 2,
            elapsedMilliseconds: 1)
        try await worker.writeInbound(WireElement.frame(Frame(stream: 2, .variant(header))))
        try await worker.writeInbound(
            WireElement.frame(Frame(stream: 2, .chunk(Chunk(raw: ByteBuffer(bytes: [1, 2]), isLast: true)))))
        let done = TaskDone(
            taskID: assign.taskID, attempt: assign.attempt, variants: 1, elapsedMilliseconds: 1,
            usage: TaskUsage(cpuMilliseconds: 1, sourcePixels: 1))
        try await worker.writeInbound(WireElement.frame(Frame(stream: 2, .taskDone(done))))

        let results = try await Self.frames(client, count: 3)
        #expect(results.map(\.message.frameType) == [.variant, .chunk, .jobDone])
        #expect(results.allSatisfy { $0.streamID == 1 })
        _ = try await client.finish()
        _ = try await worker.finish()
    }

    @Test("the engine's pipeline rules run in the coordinator: a bad field is REJECTED(invalid_pipeline) by name")
    func pipelineRules() async throws {
        let client = try await Self.connection(to: Self.coordinator())
        try await Self.handshake(client, role: .client, keyID: "acme", secret: Self.clientSecret)
        let bad = #"[{"id":"t","action":"resize","width":-3,"format":"png"}]"#
        try await client.writeInbound(
            WireElement.frame(Frame(stream: 1, .submit(Submit(sourceSize: 3, pipeline: ByteBuffer(string: bad))))))
        guard case .rejected(let rejected) = try await Self.frames(client, count: 1)[0].message else {
            Issue.record("not rejected")
            return
        }
        #expect(rejected.code == .invalidPipeline && rejected.message.contains("width"))
    }

    @Test("a client that sends a worker's frame gets GOAWAY(wrong_role) and the channel closes")
    func wrongRole() async throws {
        let client = try await Self.connection(to: Self.coordinator())
        try await Self.handshake(client, role: .client, keyID: "acme", secret: Self.clientSecret)
        try await client.writeInbound(WireElement.frame(Frame(.heartbeat(Heartbeat(freeSlots: 1, tasks: [])))))
        guard case .goAway(let goAway) = try await Self.frames(client, count: 1)[0].message else {
            Issue.record("no GOAWAY")
            return
        }
        #expect(goAway.code == .wrongRole)
        try await client.closeFuture.get()
    }

    @Test("a peer that leaves inside a frame is counted as a protocol error; one that leaves between frames is not")
    func closedInsideAFrame() async throws {
        func protocolErrors(_ coordinator: Coordinator) -> String? {
            coordinator.metricsRegistry.emitToString().split(separator: "\n")
                .first { $0.hasPrefix("pixelflow_protocol_errors_total ") }.map(String.init)
        }
        var opening = ByteBuffer()
        ClientHandshakeStateMachine(role: .client, keyID: "acme", secret: []).opening.write(to: &opening)
        let ping = Frame(.ping(Ping(opaque: 1))).bytes

        let coordinator = Self.coordinator()
        let clean = try await Self.connection(to: coordinator, speakingBytes: true)
        try await clean.writeInbound(opening)
        try await clean.close()
        #expect(protocolErrors(coordinator) == "pixelflow_protocol_errors_total 0")

        let cut = try await Self.connection(to: coordinator, speakingBytes: true)
        try await cut.writeInbound(opening)
        try await cut.writeInbound(ping.getSlice(at: 0, length: 10)!)
        try await cut.close()
        #expect(protocolErrors(coordinator) == "pixelflow_protocol_errors_total 1")
    }

    @Test("a peer that sends its preface and no AUTH is refused with handshake_timeout when the deadline passes")
    func handshakeDeadline() async throws {
        var settings = CoordinatorSettings()
        settings.limits.handshakeTimeoutMilliseconds = 500
        let channel = try await Self.connection(to: Self.coordinator(settings))
        try await channel.writeInbound(ClientHandshakeStateMachine(role: .client, keyID: "acme", secret: []).opening)
        await channel.testingEventLoop.advanceTime(by: .milliseconds(600))
        let goAway = try await Self.frames(channel, count: 2).first { $0.message.frameType == .goAway }
        guard case .goAway(let refusal)? = goAway?.message else {
            Issue.record("no GOAWAY")
            return
        }
        #expect(refusal.code == .handshakeTimeout)
        try await channel.closeFuture.get()
    }
}

/// The fake peer's side of the wire: the test writes and reads `WireElement`s, the handler gets and writes bytes.
private final class WireElementCodec: ChannelDuplexHandler {
    typealias InboundIn = WireElement
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WireElement

    private var decoder = NIOSingleStepByteToMessageProcessor(FrameDecoder(from: [.coordinator]))

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = context.channel.allocator.buffer(capacity: 256)
        unwrapInboundIn(data).write(to: &bytes)
        context.fireChannelRead(wrapInboundOut(bytes))
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        do {
            try decoder.process(buffer: unwrapOutboundIn(data)) { context.write(wrapOutboundOut($0), promise: nil) }
            promise?.succeed()
        } catch {
            promise?.fail(error)
            context.fireErrorCaught(error)
        }
    }
}
