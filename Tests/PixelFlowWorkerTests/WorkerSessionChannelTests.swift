import NIOCore
import NIOEmbedded
import PixelFlowProtocol
import Testing

@testable import PixelFlowWorker

/// The worker's session on an `NIOAsyncTestingChannel`, with the test as a scripted coordinator: the shared
/// handshake path, REGISTER, a task streamed back, and a DRAIN ending the session.
@Suite("Worker session on a test channel", .timeLimit(.minutes(1)))
struct WorkerSessionChannelTests {
    static let secret: [UInt8] = Array(repeating: 5, count: 32)
    static let pipeline = ByteBuffer(
        string: #"[{"id":"a","action":"resize","width":10,"format":"png"},"#
            + #"{"id":"b","action":"resize","width":20,"format":"webp"}]"#)

    /// The coordinator's side of the handshake, driven by the real server machine.
    static func acceptHandshake(_ channel: NIOAsyncTestingChannel) async throws {
        var server = ServerHandshakeStateMachine(
            secrets: StaticSecrets([.init(keyID: "workers", role: .worker): secret]),
            heartbeatIntervalMilliseconds: 60_000)
        while true {
            let element = try await channel.waitForOutboundWrite(as: WireElement.self)
            switch server.receive(element) {
            case .send(let elements):
                for element in elements { try await channel.writeInbound(element) }
            case .established(_, let reply):
                try await channel.writeInbound(reply)
                return
            case .fail(let error, _):
                throw error
            case .none:
                continue
            }
        }
    }

    /// The next frame the worker writes, skipping HEARTBEATs.
    static func nextFrame(_ channel: NIOAsyncTestingChannel) async throws -> Frame {
        while true {
            guard case .frame(let frame) = try await channel.waitForOutboundWrite(as: WireElement.self) else {
                continue
            }
            if case .heartbeat = frame.message { continue }
            return frame
        }
    }

    @Test("handshake, REGISTER, a task's variants streamed back and TASK_DONE, then DRAIN ends the session")
    func session() async throws {
        let channel = NIOAsyncTestingChannel()
        let link = try await channel.testingEventLoop.executeInContext {
            try CoordinatorLink.Channel(wrappingChannelSynchronously: channel)
        }
        var config = WorkerConfig(
            coordinatorHost: "test", coordinatorPort: 0, keyID: "workers", secret: Self.secret, name: "w", slots: 2)
        config.nullEngine = true
        let session = WorkerSession(config: config, runner: NullTaskRunner(), shutdown: ShutdownSignal())
        async let ended: Void = session.run(on: link)

        try await Self.acceptHandshake(channel)
        guard case .register(let register) = try await Self.nextFrame(channel).message else {
            Issue.record("no REGISTER")
            return
        }
        #expect(register.slots == 2 && register.formats.contains([.png, .webp]))
        try await channel.writeInbound(WireElement.frame(Frame(.registered(Registered(workerID: 7)))))

        let assign = Assign(
            taskID: 11, attempt: 1, leaseMilliseconds: 60_000, timeLimitMilliseconds: 0, sourceSize: 3,
            pipeline: Self.pipeline)
        try await channel.writeInbound(WireElement.frame(Frame(stream: 2, .assign(assign))))
        try await channel.writeInbound(
            WireElement.frame(Frame(stream: 2, .chunk(Chunk(raw: ByteBuffer(bytes: [1, 2, 3]), isLast: true)))))
        var variants: [String] = []
        var done: TaskDone?
        while done == nil {
            let frame = try await Self.nextFrame(channel)
            #expect(frame.streamID == 2)
            switch frame.message {
            case .variant(let header): variants.append(header.variantID)
            case .taskDone(let body): done = body
            case .chunk: continue
            default: Issue.record("unexpected \(frame.message.frameType)")
            }
        }
        #expect(variants.sorted() == ["a", "b"])
        #expect(done?.taskID == 11 && done?.attempt == 1 && done?.variants == 2)
        #expect(done?.usage?.sourcePixels == 1, "a v2 session reports the task's usage (the null engine's 1 × 1)")

        try await channel.writeInbound(WireElement.frame(Frame(.drain(Drain(deadlineMilliseconds: 1_000)))))
        guard case .goAway(let goAway) = try await Self.nextFrame(channel).message else {
            Issue.record("no GOAWAY after DRAIN")
            return
        }
        #expect(goAway.code == ErrorCode.none)
        do {
            try await ended
            Issue.record("the session ended without saying why")
        } catch WorkerSession.End.drainedForCoordinator {
            // drained at the coordinator's request: the node connects again
        } catch {
            Issue.record("the session ended with \(error)")
        }
    }
}
