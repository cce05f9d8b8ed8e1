import NIOCore
import NIOPosix
import PixelFlowCompression
import PixelFlowLocking
import PixelFlowProtocol

/// What the fake coordinator does with a SUBMIT.
enum FakeScript: Sendable {
    /// ACCEPTED, VARIANT `echo` (the source itself), [wait for the gate], VARIANT `pattern`, [delay], JOB_DONE.
    case succeed(gate: Gate? = nil, completionDelay: Duration = .zero)
    /// REJECTED at once, before the source is read; the source's chunks are discarded up to END.
    case reject(ErrorCode, retryAfterMilliseconds: UInt32, message: String)
    /// ACCEPTED, then JOB_FAILED.
    case fail(ErrorCode, message: String)
    /// ACCEPTED, VARIANT `echo` with only its first chunk, then the TCP connection closes.
    case dropMidVariant
    /// ACCEPTED(duplicate) and at once JOB_DONE with 2 variants: the job named by the key ended meanwhile.
    case endedDuplicate
}

/// A one-shot signal a test opens to let the fake coordinator continue.
final class Gate: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() { (stream, continuation) = AsyncStream<Void>.makeStream() }

    func open() { continuation.finish() }

    func wait() async {
        for await _ in stream {}
    }
}

/// A real NIO server on 127.0.0.1 (port 0) that speaks the coordinator side of the client link: the handshake
/// with `ServerHandshakeStateMachine`, strict checks of what the client sends (stream ids odd and increasing,
/// chunk sizes, source totals, `max_in_flight`), and scripted answers.
final class FakeCoordinator: Sendable {
    static let keyID = "acme"
    static let secret = "tenant-secret-acme"
    /// WATCH of this job id is never answered: a request that stays pending.
    static let silentJobID: UInt64 = 999
    /// STATUS_REQUEST, WATCH and CANCEL of this job id get REJECTED(not_found).
    static let unknownJobID: UInt64 = 404
    /// WATCH of this job id relays a VARIANT with its chunks before JOB_DONE, as some coordinators do.
    static let chattyJobID: UInt64 = 555

    /// What the fake saw, for assertions.
    struct Record: Sendable {
        var connections = 0
        var submits = 0
        var openStreams = 0
        var maxOpenStreams = 0
        var largestChunk = 0
        var rejectedStreamsEnded = 0
        var violations: [String] = []
        var sources: [Int] = []
        /// The idempotency key of each SUBMIT, in order.
        var keys: [String] = []
    }

    let port: Int
    let limits: ProtocolLimits
    private let script: @Sendable (Int) -> FakeScript
    private let record = Locked(Record())
    private let children = Locked<[any Channel]>([])

    private init(port: Int, limits: ProtocolLimits, script: @escaping @Sendable (Int) -> FakeScript) {
        self.port = port
        self.limits = limits
        self.script = script
    }

    var seen: Record { record.withLock { $0 } }

    /// Starts the server, runs `body`, then closes the server and every connection it accepted.
    static func run<Result: Sendable>(
        limits: ProtocolLimits = .default, script: @escaping @Sendable (Int) -> FakeScript,
        _ body: (FakeCoordinator) async throws -> Result
    ) async throws -> Result {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(limits: limits, from: [.client, .worker])))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                    return try NIOAsyncChannel<WireElement, WireElement>(wrappingChannelSynchronously: channel)
                }
            }
        let fake = FakeCoordinator(port: server.channel.localAddress!.port!, limits: limits, script: script)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await server.executeThenClose { connections in
                    try await withThrowingDiscardingTaskGroup { serving in
                        for try await connection in connections {
                            fake.children.withLock { $0.append(connection.channel) }
                            serving.addTask { await fake.serve(connection) }
                        }
                    }
                }
            }
            let result: Swift.Result<Result, any Error>
            do { result = .success(try await body(fake)) } catch { result = .failure(error) }
            server.channel.close(promise: nil)
            for child in fake.children.withLock({ $0 }) { child.close(promise: nil) }
            try? await group.waitForAll()
            return try result.get()
        }
    }

    // MARK: One connection

    private enum ServerStream {
        case receiving(Submit, FakeScript, [UInt8])
        case discarding
    }

    private func serve(_ connection: NIOAsyncChannel<WireElement, WireElement>) async {
        record.withLock { $0.connections += 1 }
        let channel = connection.channel
        try? await connection.executeThenClose { inbound, outbound in
            var handshake = ServerHandshakeStateMachine(
                secrets: StaticSecrets([.init(keyID: Self.keyID, role: .client): Array(Self.secret.utf8)]),
                limits: limits)
            var established = false
            var streams: [UInt32: ServerStream] = [:]
            var lastStreamID: UInt32 = 0
            try await withThrowingDiscardingTaskGroup { jobs in
                for try await element in inbound {
                    guard established else {
                        switch handshake.receive(element) {
                        case .send(let elements): try await outbound.write(contentsOf: elements)
                        case .established(_, let reply):
                            try await outbound.write(reply)
                            established = true
                        case .fail(_, let elements):
                            try await outbound.write(contentsOf: elements)
                            return
                        case .none: break
                        }
                        continue
                    }
                    guard case .frame(let frame) = element else { return violation("second preface") }
                    let stream = frame.streamID
                    if frame.message.frameType.opensClientStream {
                        guard stream % 2 == 1, stream > lastStreamID else {
                            return violation("stream \(stream) opened after \(lastStreamID)")
                        }
                        lastStreamID = stream
                        guard openStream() else {
                            try await outbound.write(
                                frameOf(
                                    stream, .rejected(Rejected(code: .tooManyInFlight, message: "over max_in_flight"))))
                            if case .submit = frame.message { streams[stream] = .discarding }
                            continue
                        }
                    }
                    switch frame.message {
                    case .submit(let submit):
                        let index = record.withLock { record in
                            defer { record.submits += 1 }
                            record.keys.append(submit.idempotencyKey)
                            return record.submits
                        }
                        let script = script(index)
                        if case .reject(let code, let retryAfter, let message) = script {
                            closeStream()
                            try await outbound.write(
                                frameOf(
                                    stream,
                                    .rejected(
                                        Rejected(code: code, retryAfterMilliseconds: retryAfter, message: message))))
                            streams[stream] = .discarding
                        } else {
                            streams[stream] = .receiving(submit, script, [])
                        }
                    case .chunk(let chunk):
                        switch streams[stream] {
                        case .receiving(let submit, let script, var bytes):
                            let data = try chunk.decoded()
                            record.withLock { $0.largestChunk = max($0.largestChunk, data.readableBytes) }
                            guard data.readableBytes <= Int(limits.maxChunkData) else {
                                return violation("chunk of \(data.readableBytes) bytes")
                            }
                            bytes.append(contentsOf: data.readableBytesView)
                            guard UInt64(bytes.count) <= submit.sourceSize else {
                                return violation("source over its declared size")
                            }
                            guard chunk.isLast else {
                                streams[stream] = .receiving(submit, script, bytes)
                                continue
                            }
                            guard UInt64(bytes.count) == submit.sourceSize else {
                                return violation("END below the declared size")
                            }
                            streams[stream] = nil
                            record.withLock { $0.sources.append(bytes.count) }
                            let source = bytes
                            jobs.addTask {
                                try await self.runJob(
                                    stream: stream, mode: submit.mode, source: source, script: script,
                                    outbound: outbound, channel: channel)
                            }
                        case .discarding:
                            if chunk.isLast {
                                streams[stream] = nil
                                record.withLock { $0.rejectedStreamsEnded += 1 }
                            }
                        case nil:
                            return violation("CHUNK on stream \(stream), which expects none")
                        }
                    case .statusRequest(let request):
                        closeStream()
                        if request.jobID == Self.unknownJobID {
                            try await outbound.write(
                                frameOf(
                                    stream, .rejected(Rejected(code: .notFound, message: "no job \(request.jobID)"))))
                        } else {
                            try await outbound.write(
                                frameOf(
                                    stream,
                                    .status(
                                        JobStatus(jobID: request.jobID, state: .running, attempts: 1, variantsDone: 1)))
                            )
                        }
                    case .cancel(let request):
                        closeStream()
                        try await outbound.write(
                            frameOf(
                                stream,
                                .status(
                                    JobStatus(
                                        jobID: request.jobID, state: .cancelled, attempts: 1, variantsDone: 0,
                                        code: .cancelled, message: "cancelled by the client"))))
                    case .watch(let request):
                        if request.jobID == Self.silentJobID { continue }
                        closeStream()
                        if request.jobID == Self.unknownJobID {
                            try await outbound.write(
                                frameOf(
                                    stream, .rejected(Rejected(code: .notFound, message: "no job \(request.jobID)"))))
                        } else {
                            if request.jobID == Self.chattyJobID {
                                try await outbound.write(
                                    contentsOf: Self.variantFrames(
                                        stream: stream, jobID: request.jobID, id: "late", format: "webp",
                                        bytes: Self.pattern(count: 300_000)))
                            }
                            try await outbound.write(
                                frameOf(
                                    stream,
                                    .jobDone(
                                        JobDone(jobID: request.jobID, variants: 2, attempts: 1, elapsedMilliseconds: 12)
                                    )))
                        }
                    case .workersRequest:
                        closeStream()
                        try await outbound.write(frameOf(stream, .workers(WorkerList(workers: Self.workers))))
                    case .statsRequest:
                        closeStream()
                        try await outbound.write(frameOf(stream, .stats(Self.stats)))
                    case .ping(let ping):
                        try await outbound.write(.frame(Frame(.pong(Pong(opaque: ping.opaque)))))
                    case .pong:
                        break
                    case .goAway:
                        return
                    default:
                        return violation("unexpected \(frame.message.frameType)")
                    }
                }
            }
        }
    }

    private func runJob(
        stream: UInt32, mode: Submit.Mode, source: [UInt8], script: FakeScript,
        outbound: NIOAsyncChannelOutboundWriter<WireElement>, channel: any Channel
    ) async throws {
        let jobID = UInt64(stream) * 10
        if mode == .async {
            // Async mode: ACCEPTED closes the stream; the outcome is read with STATUS or WATCH.
            closeStream()
            try await outbound.write(frameOf(stream, .accepted(Accepted(jobID: jobID))))
            return
        }
        if case .endedDuplicate = script {
            closeStream()
            try await outbound.write(
                contentsOf: [
                    frameOf(stream, .accepted(Accepted(jobID: 7, duplicate: true))),
                    frameOf(stream, .jobDone(JobDone(jobID: 7, variants: 2, attempts: 1, elapsedMilliseconds: 42))),
                ])
            return
        }
        try await outbound.write(frameOf(stream, .accepted(Accepted(jobID: jobID))))
        switch script {
        case .succeed(let gate, let completionDelay):
            try await outbound.write(
                contentsOf: Self.variantFrames(stream: stream, jobID: jobID, id: "echo", format: "png", bytes: source))
            if let gate { await gate.wait() }
            try await outbound.write(
                contentsOf: Self.variantFrames(
                    stream: stream, jobID: jobID, id: "pattern", format: "webp", bytes: Self.pattern(count: 5_000)))
            if completionDelay > .zero { try await Task.sleep(for: completionDelay) }
            closeStream()
            try await outbound.write(
                frameOf(stream, .jobDone(JobDone(jobID: jobID, variants: 2, attempts: 1, elapsedMilliseconds: 42))))
        case .fail(let code, let message):
            closeStream()
            try await outbound.write(
                frameOf(stream, .jobFailed(JobFailed(jobID: jobID, code: code, attempts: 1, message: message))))
        case .dropMidVariant:
            let frames = Self.variantFrames(
                stream: stream, jobID: jobID, id: "echo", format: "png", bytes: source, chunkSize: 1_000)
            try await outbound.write(contentsOf: frames.prefix(2))
            try await channel.close()
        case .reject, .endedDuplicate:
            break  // answered already
        }
    }

    // MARK: Helpers

    private func openStream() -> Bool {
        record.withLock { record in
            guard record.openStreams < Int(limits.maxInFlight) else { return false }
            record.openStreams += 1
            record.maxOpenStreams = max(record.maxOpenStreams, record.openStreams)
            return true
        }
    }

    private func closeStream() {
        record.withLock { $0.openStreams -= 1 }
    }

    private func violation(_ message: String) {
        record.withLock { $0.violations.append(message) }
    }

    static func pattern(count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 / 50) }
    }

    /// VARIANT and its chunks, compressed where it pays (the pattern does, random sources do not).
    static func variantFrames(
        stream: UInt32, jobID: UInt64, id: String, format: String, bytes: [UInt8], chunkSize: Int = 100_000
    ) -> [WireElement] {
        let header = VariantHeader(
            jobID: jobID, attempt: 1, variantID: id, format: format, width: 150, height: 100, size: UInt64(bytes.count),
            elapsedMilliseconds: 7)
        var frames = [frameOf(stream, .variant(header))]
        var compressor = PayloadCompressor()
        var offset = 0
        repeat {
            let end = min(offset + chunkSize, bytes.count)
            let chunk = Chunk.encode(
                ByteBuffer(bytes: bytes[offset..<end]), isLast: end == bytes.count, compressor: &compressor)
            frames.append(frameOf(stream, .chunk(chunk)))
            offset = end
        } while offset < bytes.count
        return frames
    }

    static let workers = [
        WorkerList.Worker(
            name: "w1", address: "127.0.0.1:5001", slots: 2, busy: 1, done: 10, failed: 1,
            lastHeartbeatMillisecondsAgo: 250),
        WorkerList.Worker(
            name: "w2", address: "127.0.0.1:5002", slots: 4, busy: 0, done: 3, failed: 0,
            lastHeartbeatMillisecondsAgo: 900),
    ]

    static let stats = Stats(
        total: .init(queued: 3, running: 2, admitted: 100, rejected: 7, succeeded: 90, failed: 5), workers: 2,
        tenants: [
            .init(
                name: "acme",
                counters: .init(queued: 3, running: 2, admitted: 100, rejected: 7, succeeded: 90, failed: 5))
        ])
}

func frameOf(_ stream: UInt32, _ message: Message) -> WireElement {
    .frame(Frame(stream: stream, message))
}

extension FrameType {
    /// Frames a client sends to open a stream (PROTOCOL.md §10.1).
    var opensClientStream: Bool {
        switch self {
        case .submit, .cancel, .statusRequest, .watch, .workersRequest, .statsRequest: true
        default: false
        }
    }
}
