import Foundation
import NIOCore
import NIOPosix
import PixelFlowCompression
import PixelFlowImaging
import PixelFlowPipeline
import PixelFlowProtocol

/// One connection to the coordinator: handshake, REGISTER, then tasks until the connection ends or the worker
/// drains. Each task runs as a child task and streams every variant back as soon as it is encoded.
struct WorkerSession {
    let config: WorkerConfig
    let runner: any TaskRunner
    let shutdown: ShutdownSignal

    enum End: Error {
        /// The worker drained and said goodbye: do not reconnect.
        case drained
    }

    typealias Outbound = NIOAsyncChannelOutboundWriter<WireElement>

    func run(group: any EventLoopGroup) async throws {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .connect(host: config.coordinatorHost, port: config.coordinatorPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(FrameDecoder(from: [.coordinator])),
                        BatchingFrameEncoder(),
                    ])
                    return try NIOAsyncChannel<WireElement, WireElement>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var frames = inbound.makeAsyncIterator()
            let session = try await handshake(&frames, outbound)
            try await outbound.write(.frame(Frame(.register(Register(
                name: config.name, slots: UInt16(clamping: config.slots), formats: [.jpeg, .png, .webp, .avif, .heic, .gif],
                version: "1")))))
            guard case .frame(let first)? = try await frames.next(), case .registered = first.message else {
                throw ProtocolError.malformed("the coordinator did not answer REGISTER with REGISTERED")
            }
            try await serve(&frames, outbound, session: session)
        }
    }

    private func handshake(_ frames: inout NIOAsyncChannelInboundStream<WireElement>.AsyncIterator, _ outbound: Outbound) async throws -> ClientHandshakeStateMachine.Session {
        var machine = ClientHandshakeStateMachine(role: .worker, keyID: config.keyID, secret: config.secret)
        try await outbound.write(machine.opening)
        while let element = try await frames.next() {
            switch machine.receive(element) {
            case .send(let elements): try await outbound.write(contentsOf: elements)
            case .established(let session): return session
            case .fail(let error): throw error
            case .none: continue
            }
        }
        throw ProtocolError(.protocolError, "the coordinator closed the connection during the handshake")
    }

    private func serve(_ frames: inout NIOAsyncChannelInboundStream<WireElement>.AsyncIterator, _ outbound: Outbound, session: ClientHandshakeStateMachine.Session) async throws {
        let state = WorkerSessionState(slots: config.slots)
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
                await shutdown.wait()
                try await drain(state, outbound)
            }
            var assemblies: [UInt32: (assign: Assign, source: PayloadAssembler)] = [:]
            while let element = try await frames.next() {
                guard case .frame(let frame) = element else { throw ProtocolError.malformed("second preface") }
                switch frame.message {
                case .assign(let assign):
                    assemblies[frame.streamID] = (assign, PayloadAssembler(expected: Int(clamping: assign.sourceSize), reserveLimit: config.imagingLimits.maxSourceBytes))
                case .chunk(let chunk):
                    // Taken out of the table so the source has one owner and appending never copies it.
                    guard var assembly = assemblies.removeValue(forKey: frame.streamID) else {
                        throw ProtocolError.malformed("CHUNK on stream \(frame.streamID), which has no task")
                    }
                    let complete = try assembly.source.add(chunk)
                    assemblies[frame.streamID] = complete ? nil : assembly
                    if complete {
                        let stream = frame.streamID
                        let (cancelled, cancel) = AsyncStream<Void>.makeStream()
                        state.start(stream: stream, task: .init(taskID: assembly.assign.taskID, attempt: assembly.assign.attempt), cancel: cancel)
                        let task = TaskExecution(
                            stream: stream, assign: assembly.assign, source: Array(assembly.source.bytes.readableBytesView), runner: runner, outbound: outbound,
                            chunkSize: chunkSize, maxVariantBytes: min(maxVariantBytes, UInt64(Int.max)), maxSourceBytes: UInt64(config.imagingLimits.maxSourceBytes))
                        group.addTask {
                            await task.run(cancelled: cancelled)
                            state.finish(stream: stream)
                        }
                    }
                case .cancelTask:
                    state.cancel(stream: frame.streamID)
                case .drain:
                    group.addTask { try await drain(state, outbound) }
                case .ping(let ping):
                    try await outbound.write(.frame(Frame(.pong(Pong(opaque: ping.opaque)))))
                case .goAway(let goAway):
                    throw ProtocolError(goAway.code, "the coordinator said goodbye: \(goAway.message)")
                case .pong, .registered:
                    continue
                default:
                    throw ProtocolError.malformed("a worker does not expect \(frame.message.frameType)")
                }
            }
            group.cancelAll()
        }
        // The coordinator closes the connection after our GOAWAY; that close is the end of a drain, not a failure.
        if state.isDraining { throw End.drained }
    }

    /// Takes no new tasks, lets the running ones finish (up to the drain timeout), then says goodbye.
    private func drain(_ state: WorkerSessionState, _ outbound: Outbound) async throws {
        guard !state.isDraining else { return }
        state.startDraining()
        try await outbound.write(.frame(Frame(.drain(Drain(deadlineMilliseconds: config.drainTimeout.milliseconds)))))
        try await outbound.write(.frame(Frame(.heartbeat(state.heartbeat))))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await state.idle() }
            group.addTask { try? await Task.sleep(for: .nanoseconds(config.drainTimeout.nanoseconds)) }
            await group.next()
            group.cancelAll()
        }
        // Whatever still runs is handed back: the coordinator requeues it when the connection closes.
        try await outbound.write(.frame(Frame(.goAway(GoAway(code: .shuttingDown, message: "worker \(config.name) drained")))))
        throw End.drained
    }
}
