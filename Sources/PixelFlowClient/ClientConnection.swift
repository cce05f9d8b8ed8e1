import NIOCore
import PixelFlowCompression
import PixelFlowLocking
import PixelFlowProtocol
import PixelFlowTLS
import Synchronization

/// An established client link: the state machine under a lock, the outbound queue, and the operations the public
/// API is built from (open a stream, upload a source, dispatch an inbound frame, close).
final class ClientConnection: Sendable {
    let session: ClientHandshakeStateMachine.Session
    let queue: OutboundQueue
    private let state: Locked<ConnectionStateMachine>
    private let tokens = Atomic<UInt64>(0)

    init(session: ClientHandshakeStateMachine.Session, queue: OutboundQueue) {
        self.session = session
        self.queue = queue
        self.state = Locked(ConnectionStateMachine(limits: session.limits))
    }

    /// Requests open right now (streams opened and not yet closed by the coordinator).
    var openStreamCount: Int { state.withLock { $0.openStreamCount } }

    // MARK: Requests

    /// Opens a request stream, waiting for a free `max_in_flight` slot if needed, and enqueues `frames` (the first
    /// one opens the stream) in the same critical section that picked the id. Returns the id and the stream's events.
    func open(
        _ kind: RequestKind, frames: [Message]
    ) async throws(PixelFlowClientError) -> (UInt32, AsyncThrowingStream<StreamEvent, any Error>) {
        let (events, sink) = AsyncThrowingStream<StreamEvent, any Error>.makeStream()
        let request = ConnectionStateMachine.Request(kind: kind, frames: frames, sink: sink)
        // Fast path: a free slot, so no continuation or cancellation handler is needed.
        let immediate = state.withLock { machine in
            let action = machine.openIfFree(request)
            if case .opened(let opening) = action { enqueue(opening) }
            return action
        }
        switch immediate {
        case .opened(let opening):
            return (opening.streamID, events)
        case .fail(let error):
            sink.finish()
            throw error
        case .wait, nil:
            break
        }
        let token = tokens.wrappingAdd(1, ordering: .relaxed).newValue
        do {
            let streamID = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<UInt32, any Error>) in
                    let action = state.withLock { machine in
                        let action = machine.open(
                            request, token: token, continuation: continuation, isCancelled: Task.isCancelled)
                        if case .opened(let opening) = action { enqueue(opening) }
                        return action
                    }
                    switch action {
                    case .opened(let opening): continuation.resume(returning: opening.streamID)
                    case .wait: break
                    case .fail(let error): continuation.resume(throwing: error)
                    }
                }
            } onCancel: {
                state.withLock { $0.cancelWaiter(token: token) }?.resume(throwing: PixelFlowClientError.cancelledByTask)
            }
            return (streamID, events)
        } catch {
            sink.finish()
            throw Self.typed(error)
        }
    }

    /// Opens a SUBMIT stream and uploads `source` as chunks of at most `max_chunk_data`, each written before the
    /// next is enqueued so other streams interleave. Stops early (with an empty END chunk) if the coordinator ends
    /// the stream first, e.g. with REJECTED.
    func submit(
        _ kind: RequestKind, _ submit: Submit, source: [UInt8]
    ) async throws(PixelFlowClientError) -> AsyncThrowingStream<StreamEvent, any Error> {
        var chunks = SourceChunker(source: source, chunkSize: Int(session.limits.maxChunkData))
        let (streamID, events) = try await open(kind, frames: [.submit(submit), .chunk(chunks.next())])
        while !chunks.isFinished {
            guard isOpen(streamID) else {
                try await queue.enqueueAndWait(
                    .frame(Frame(stream: streamID, .chunk(Chunk(raw: ByteBuffer(), isLast: true)))))
                break
            }
            try await queue.enqueueAndWait(.frame(Frame(stream: streamID, .chunk(chunks.next()))))
        }
        return events
    }

    /// Opens a request stream and waits for its single answer.
    func request(_ kind: RequestKind, _ message: Message) async throws(PixelFlowClientError) -> StreamEvent {
        let (_, events) = try await open(kind, frames: [message])
        return try await Self.firstEvent(of: events)
    }

    static func firstEvent(
        of events: AsyncThrowingStream<StreamEvent, any Error>
    ) async throws(PixelFlowClientError) -> StreamEvent {
        do {
            for try await event in events { return event }
        } catch {
            throw typed(error)
        }
        throw Task.isCancelled ? .cancelledByTask : .connectionLost("the request ended without an answer")
    }

    private func isOpen(_ streamID: UInt32) -> Bool { state.withLock { $0.isOpen(streamID) } }

    /// Called with the lock held: ids must reach the queue in the order they were allocated.
    private func enqueue(_ opening: ConnectionStateMachine.Opening) {
        for message in opening.frames {
            queue.enqueue(.frame(Frame(stream: opening.streamID, message)))
        }
    }

    // MARK: Inbound

    /// Dispatches one inbound frame. Returns the error to close the connection with, if the frame demands it.
    func receive(_ frame: Frame) -> (error: PixelFlowClientError, sendGoAway: Bool)? {
        let action = state.withLock { machine in
            let action = machine.receive(frame)
            if case .finish(_, _, let admitted) = action {
                for entry in admitted { enqueue(entry.opening) }
            }
            return action
        }
        switch action {
        case .none:
            return nil
        case .deliver(let sink, let event):
            sink.yield(event)
            return nil
        case .finish(let sink, let result, let admitted):
            switch result {
            case .success(let event):
                sink.yield(event)
                sink.finish()
            case .failure(let error):
                sink.finish(throwing: error)
            }
            for entry in admitted { entry.continuation.resume(returning: entry.opening.streamID) }
            return nil
        case .reply(let message):
            queue.enqueue(.frame(Frame(message)))
            return nil
        case .drain(let waiters, let error):
            for waiter in waiters { waiter.resume(throwing: error) }
            return nil
        case .closeConnection(let error, let sendGoAway):
            return (error, sendGoAway)
        }
    }

    // MARK: Closing

    /// Fails everything pending with `error`. With `goAway`, that frame is still written before the queue closes.
    func close(_ error: PixelFlowClientError, goAway: GoAway?) {
        let teardown = state.withLock { $0.close(error) }
        for sink in teardown.sinks { sink.finish(throwing: error) }
        for waiter in teardown.waiters { waiter.resume(throwing: error) }
        if let goAway { queue.enqueue(.frame(Frame(.goAway(goAway)))) }
        queue.close(error, discardPending: goAway == nil)
    }

    static func typed(_ error: any Error) -> PixelFlowClientError {
        switch error {
        case let error as PixelFlowClientError: error
        case let error as ProtocolError: PixelFlowClientError(error)
        case is CancellationError: .cancelledByTask
        default: .connectionLost(TLSDiagnosis.describe(error) ?? "\(error)")
        }
    }
}

/// Cuts a source into the chunks of its upload, letting one `PayloadCompressor` decide per chunk (auto policy).
struct SourceChunker {
    private let source: [UInt8]
    private let chunkSize: Int
    private var offset = 0
    private var compressor = PayloadCompressor()
    private(set) var isFinished = false

    init(source: [UInt8], chunkSize: Int) {
        self.source = source
        self.chunkSize = max(1, chunkSize)
    }

    /// The next chunk; the last one is flagged END (an empty source is one empty END chunk).
    mutating func next() -> Chunk {
        let end = min(offset + chunkSize, source.count)
        let bytes = ByteBuffer(bytes: source[offset..<end])
        offset = end
        isFinished = offset == source.count
        return Chunk.encode(bytes, isLast: isFinished, compressor: &compressor)
    }
}
