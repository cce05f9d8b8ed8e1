import NIOCore
import PixelFlowProtocol

/// The client side of an established connection: stream ids, the `max_in_flight` window, the requests waiting
/// for a slot, and every open stream. Pure: events in, actions out; `ClientConnection` runs it under a lock and
/// performs the actions.
struct ConnectionStateMachine {
    /// A request ready to open a stream: its kind, the frames to send at once (the first one opens the stream),
    /// and where its answers go.
    struct Request {
        var kind: RequestKind
        var frames: [Message]
        var sink: StreamSink
    }

    /// Frames to enqueue, in the same critical section that allocated `streamID`, so ids reach the wire in order.
    struct Opening {
        var streamID: UInt32
        var frames: [Message]
    }

    /// A request that got a slot after waiting: enqueue its opening, then resume it with the stream id.
    struct Admitted {
        var opening: Opening
        var continuation: CheckedContinuation<UInt32, any Error>
    }

    enum OpenAction {
        case opened(Opening)
        case wait
        case fail(PixelFlowClientError)
    }

    enum ReceiveAction {
        case none
        case deliver(StreamSink, StreamEvent)
        /// The stream closed; `admitted` are waiters that took its slot.
        case finish(StreamSink, Result<StreamEvent, PixelFlowClientError>, admitted: [Admitted])
        /// Answer a PING.
        case reply(Message)
        /// The coordinator stops opening streams for us: fail the waiters, keep the open streams.
        case drain([CheckedContinuation<UInt32, any Error>], PixelFlowClientError)
        /// Connection error: send GOAWAY with this error if `sendGoAway`, close, fail everything.
        case closeConnection(PixelFlowClientError, sendGoAway: Bool)
    }

    /// Everything to fail when the connection ends.
    struct Teardown {
        var sinks: [StreamSink] = []
        var waiters: [CheckedContinuation<UInt32, any Error>] = []
    }

    private enum Phase {
        case active
        /// A graceful GOAWAY arrived (or the client is closing): no new streams.
        case draining(PixelFlowClientError)
        case closed(PixelFlowClientError)
    }

    private struct Waiter {
        var token: UInt64
        var request: Request
        var continuation: CheckedContinuation<UInt32, any Error>
    }

    let maxInFlight: Int
    let maxVariantBytes: UInt64
    private var phase = Phase.active
    private var nextStreamID: UInt32 = 1
    private var streams: [UInt32: ClientStreamState] = [:]
    private var waiters: [Waiter] = []
    private var waitersHead = 0

    init(limits: ProtocolLimits) {
        maxInFlight = max(1, Int(limits.maxInFlight))
        maxVariantBytes = limits.maxVariantBytes
    }

    var openStreamCount: Int { streams.count }

    func isOpen(_ streamID: UInt32) -> Bool { streams[streamID] != nil }

    // MARK: Opening streams

    /// Opens a stream if a slot is free and nobody is queued for one; nil when the request has to wait.
    mutating func openIfFree(_ request: Request) -> OpenAction? {
        switch phase {
        case .draining(let error), .closed(let error):
            return .fail(error)
        case .active:
            break
        }
        guard streams.count < maxInFlight && waiters.count == waitersHead else { return nil }
        guard let opening = allocate(request) else { return .fail(Self.idsExhausted) }
        return .opened(opening)
    }

    /// Opens a stream now if a slot is free, else queues the request (FIFO) until one is.
    mutating func open(
        _ request: Request, token: UInt64, continuation: CheckedContinuation<UInt32, any Error>, isCancelled: Bool
    ) -> OpenAction {
        if isCancelled { return .fail(.cancelledByTask) }
        if let action = openIfFree(request) { return action }
        waiters.append(Waiter(token: token, request: request, continuation: continuation))
        return .wait
    }

    /// The task waiting with `token` was cancelled: its continuation, if it was still waiting.
    mutating func cancelWaiter(token: UInt64) -> CheckedContinuation<UInt32, any Error>? {
        guard let index = waiters[waitersHead...].firstIndex(where: { $0.token == token }) else { return nil }
        return waiters.remove(at: index).continuation
    }

    private mutating func allocate(_ request: Request) -> Opening? {
        guard nextStreamID < UInt32.max - 1 else { return nil }
        let id = nextStreamID
        nextStreamID += 2  // client streams are odd and strictly increasing
        streams[id] = ClientStreamState(kind: request.kind, sink: request.sink)
        return Opening(streamID: id, frames: request.frames)
    }

    private mutating func admitWaiters() -> [Admitted] {
        var admitted: [Admitted] = []
        while streams.count < maxInFlight && waitersHead < waiters.count {
            let waiter = waiters[waitersHead]
            waitersHead += 1
            guard let opening = allocate(waiter.request) else { break }
            admitted.append(Admitted(opening: opening, continuation: waiter.continuation))
        }
        if waitersHead > 64 && waitersHead * 2 > waiters.count {
            waiters.removeFirst(waitersHead)
            waitersHead = 0
        }
        return admitted
    }

    // MARK: Inbound frames

    mutating func receive(_ frame: Frame) -> ReceiveAction {
        if case .closed = phase { return .none }
        if frame.streamID == 0 { return receiveConnectionFrame(frame.message) }
        guard var stream = streams[frame.streamID] else {
            return violation("\(frame.message.frameType) on stream \(frame.streamID), which is not open")
        }
        let outcome: ClientStreamState.Outcome
        if case .chunk(let chunk) = frame.message {
            let data: ByteBuffer
            do {
                data = try chunk.decoded()
            } catch {
                return .closeConnection(PixelFlowClientError(error), sendGoAway: true)
            }
            outcome = stream.receiveChunk(data, isLast: chunk.isLast)
        } else {
            outcome = stream.receive(frame.message, maxVariantBytes: maxVariantBytes)
        }
        switch outcome {
        case .none:
            streams[frame.streamID] = stream
            return .none
        case .deliver(let event):
            streams[frame.streamID] = stream
            return .deliver(stream.sink, event)
        case .finish(let result):
            streams[frame.streamID] = nil
            return .finish(stream.sink, result, admitted: admitWaiters())
        case .violation(let message):
            return violation(message)
        }
    }

    private mutating func receiveConnectionFrame(_ message: Message) -> ReceiveAction {
        guard let known = CoordinatorToClient(message) else {
            return violation("\(message.frameType) is not expected on a client link")
        }
        switch known {
        case .ping(let ping):
            return .reply(.pong(Pong(opaque: ping.opaque)))
        case .pong:
            return .none
        case .goAway(let goAway) where goAway.code == .none || goAway.code == .shuttingDown:
            let error = PixelFlowClientError(
                rejected: .shuttingDown, "the coordinator is shutting down: \(goAway.message)")
            phase = .draining(error)
            let waiting = waiters[waitersHead...].map(\.continuation)
            waiters = []
            waitersHead = 0
            return .drain(waiting, error)
        case .goAway(let goAway):
            return .closeConnection(
                PixelFlowClientError(
                    wire: goAway.code, message: "the coordinator closed the connection: \(goAway.message)"),
                sendGoAway: false)
        case .accepted, .rejected, .variant, .chunk, .jobDone, .jobFailed, .status, .workers, .stats, .jobList,
            .usage:
            return violation("\(message.frameType) belongs on a request's stream, not on stream 0")
        }
    }

    private func violation(_ message: String) -> ReceiveAction {
        .closeConnection(PixelFlowClientError(wire: .protocolError, message: message), sendGoAway: true)
    }

    // MARK: Ending

    /// The connection is gone (or being closed): everything still pending fails with `error`.
    mutating func close(_ error: PixelFlowClientError) -> Teardown {
        if case .closed = phase { return Teardown() }
        phase = .closed(error)
        let teardown = Teardown(sinks: streams.values.map(\.sink), waiters: waiters[waitersHead...].map(\.continuation))
        streams = [:]
        waiters = []
        waitersHead = 0
        return teardown
    }

    private static let idsExhausted = PixelFlowClientError(
        .connectionLost, "this connection has used all its stream ids; open a new one")
}
