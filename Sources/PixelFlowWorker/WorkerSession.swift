import Foundation
import NIOCore
import NIOPosix
import PixelFlowCompression
import PixelFlowImaging
import PixelFlowObjects
import PixelFlowPipeline
import PixelFlowProtocol

/// One connection to the coordinator: handshake, REGISTER, then tasks until the connection ends or the worker
/// drains. Each task runs as a child task and streams every variant back as soon as it is encoded.
struct WorkerSession {
    let config: WorkerConfig
    let runner: any TaskRunner
    let shutdown: ShutdownSignal
    /// Reads sources and stores variants of ASSIGN_OBJECT tasks.
    var transfer = PresignedTransfer()

    enum End: Error {
        /// The worker drained on its own SIGTERM and said goodbye: do not reconnect.
        case drained
        /// The coordinator asked for a drain: done; connect again.
        case drainedForCoordinator
    }

    typealias Outbound = NIOAsyncChannelOutboundWriter<WireElement>

    func run(group: any EventLoopGroup) async throws {
        let host = config.coordinatorHost
        let channel = try await CoordinatorLink.connect(
            host: host, port: config.coordinatorPort, acceptedLimits: Self.largestAcceptedLimits,
            connectTimeout: config.connectTimeout, group: group,
            secure: config.tls?.securing(host: host))
        try await run(on: channel)
    }

    /// The session on an open channel (tests hand it one with a scripted coordinator on the other end).
    func run(on channel: CoordinatorLink.Channel) async throws {
        try await channel.executeThenClose { inbound, outbound in
            var frames = inbound.makeAsyncIterator()
            let handshake = ClientHandshakeStateMachine(role: .worker, keyID: config.keyID, secret: config.secret)
            let session = try await CoordinatorLink.authenticate(
                handshake, frames: &frames, channel: channel.channel, acceptedLimits: Self.largestAcceptedLimits,
                timeout: config.handshakeTimeout
            ) { elements in
                try await outbound.write(contentsOf: elements)
            }
            let register = Register(
                name: config.name, slots: UInt16(clamping: config.slots), formats: Self.formats, version: "1")
            try await outbound.write(.frame(Frame(.register(register))))
            guard case .frame(let first)? = try await frames.next(), case .registered = first.message else {
                throw ProtocolError.malformed("the coordinator did not answer REGISTER with REGISTERED")
            }
            try await serve(&frames, outbound, session: session, channel: channel.channel)
        }
    }

    /// What this worker's engine encodes: every format the pipeline model knows; it takes ASSIGN_OBJECT and reports
    /// decode times (bits a v1 coordinator ignores).
    static let formats = OutputFormat.allCases.reduce(into: OutputFormats([.objects, .timings])) {
        $0.formUnion(OutputFormats(name: $1.rawValue) ?? [])
    }

    /// The largest frame limits a worker accepts from AUTH_OK: the top of the coordinator's config ranges.
    static let largestAcceptedLimits: ProtocolLimits = {
        var limits = ProtocolLimits()
        limits.maxControlPayload = 16 << 20
        limits.maxChunkData = 16 << 20
        return limits
    }()

    private func serve(
        _ frames: inout NIOAsyncChannelInboundStream<WireElement>.AsyncIterator, _ outbound: Outbound,
        session: ClientHandshakeStateMachine.Session, channel: any Channel
    ) async throws {
        let state = WorkerSessionState(slots: config.slots)
        var machine = WorkerLinkStateMachine(
            slots: config.slots, maxSourceBytes: UInt64(config.imagingLimits.maxSourceBytes))
        let chunkSize = Int(session.limits.maxChunkData)
        let maxVariantBytes = session.limits.maxVariantBytes
        let heartbeatInterval = TimeAmount.milliseconds(Int64(max(100, session.heartbeatIntervalMilliseconds)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: .nanoseconds(heartbeatInterval.nanoseconds))
                    try await outbound.write(.frame(Frame(.heartbeat(state.heartbeat))))
                }
            }
            group.addTask {
                // Stops tasks past their time limit, within a tenth of a second.
                while !Task.isCancelled {
                    try await Task.sleep(for: .milliseconds(100))
                    state.stopOverdue(now: .now())
                }
            }
            group.addTask {
                // Only the worker's own SIGTERM drains it for good; a lost connection just ends this session.
                await shutdown.wait()
                guard shutdown.isFired else { return }
                try await drain(state, outbound, channel, reason: .shutdown)
            }
            do {
                try await receiveFrames(
                    &frames, machine: &machine, state: state, outbound: outbound, channel: channel, group: &group,
                    chunkSize: chunkSize, maxVariantBytes: maxVariantBytes, version: session.version)
            } catch  where state.isDraining {
                // Our own close at the end of a drain can cut an incoming frame short: that is the drain's end.
            }
            group.cancelAll()
        }
        // The connection closes after our GOAWAY: the end of a drain, not a failure.
        if state.isDraining { throw shutdown.isFired ? End.drained : End.drainedForCoordinator }
    }

    /// Runs a task as a child task of the session.
    private func startTask(
        stream: UInt32, assign: Assign, data: TaskData, state: WorkerSessionState, outbound: Outbound,
        group: inout ThrowingTaskGroup<Void, any Error>, chunkSize: Int, maxVariantBytes: UInt64, version: UInt8
    ) {
        let stop = TaskStopSignal()
        // ASSIGN's time_limit_ms is enforced by the session's 100 ms sweep, not by a timer per task.
        let deadline =
            assign.timeLimitMilliseconds == 0
            ? nil : NIODeadline.now() + .milliseconds(Int64(assign.timeLimitMilliseconds))
        state.start(
            stream: stream, task: .init(taskID: assign.taskID, attempt: assign.attempt), deadline: deadline, stop: stop)
        let task = TaskExecution(
            stream: stream, assign: assign, data: data, runner: runner, outbound: outbound, chunkSize: chunkSize,
            maxVariantBytes: min(maxVariantBytes, UInt64(Int.max)), state: state,
            reportsUsage: version >= ProtocolVersion.v2)
        group.addTask { await task.run(stop: stop) }
    }

    /// The inbound loop: each frame through the link state machine, its action carried out.
    private func receiveFrames(
        _ frames: inout NIOAsyncChannelInboundStream<WireElement>.AsyncIterator, machine: inout WorkerLinkStateMachine,
        state: WorkerSessionState, outbound: Outbound, channel: any Channel,
        group: inout ThrowingTaskGroup<Void, any Error>,
        chunkSize: Int, maxVariantBytes: UInt64, version: UInt8
    ) async throws {
        while let element = try await frames.next() {
            guard case .frame(let frame) = element else { throw ProtocolError.malformed("second preface") }
            switch machine.receive(frame, running: state.runningCount) {
            case .none:
                continue
            case .reply(let message):
                try await outbound.write(.frame(Frame(message)))
            case .accept(let stream, let task):
                state.receive(stream: stream, task: task)
            case .refuse(let stream, var refusal):
                state.stopReceiving(stream: stream)  // a task cancelled while its source arrived
                if version >= ProtocolVersion.v2 { refusal.usage = TaskUsage(cpuMilliseconds: 0, sourcePixels: 0) }
                try await outbound.write(.frame(Frame(stream: stream, .taskFailed(refusal))))
            case .start(let stream, let assign, let source):
                startTask(
                    stream: stream, assign: assign, data: .inline(source: Array(source.readableBytesView)),
                    state: state, outbound: outbound, group: &group, chunkSize: chunkSize,
                    maxVariantBytes: maxVariantBytes, version: version)
            case .startObject(let stream, let assign):
                let putURLs = Dictionary(assign.outputs.map { ($0.variantID, $0.putURL) }) { first, _ in first }
                startTask(
                    stream: stream, assign: assign.assign,
                    data: .objects(sourceURL: assign.sourceURL, putURLs: putURLs, transfer: transfer),
                    state: state, outbound: outbound, group: &group, chunkSize: chunkSize,
                    maxVariantBytes: maxVariantBytes, version: version)
            case .cancel(let stream):
                state.cancel(stream: stream)
            case .drain(let deadline):
                group.addTask {
                    try await drain(state, outbound, channel, reason: .coordinatorAsked(deadlineMilliseconds: deadline))
                }
            case .coordinatorLeaving:
                state.refuseNewTasks()  // HEARTBEATs now say no free slot; the coordinator closes when done
            case .fail(let error, let sendGoAway):
                if sendGoAway { try? await outbound.write(.frame(Frame(.goAway(GoAway(error))))) }
                throw error
            }
        }
    }
}
