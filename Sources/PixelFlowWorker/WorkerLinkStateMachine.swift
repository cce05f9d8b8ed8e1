import NIOCore
import PixelFlowProtocol

/// What a worker does with each frame from the coordinator once registered. Pure: frames in, actions out;
/// `WorkerSession` performs the actions. The worker enforces its own limits here, whatever the coordinator
/// sends: never more tasks than its slots, never a source over its own size limit.
struct WorkerLinkStateMachine {
    enum Action: Equatable {
        case none
        /// Answer on stream 0 (PONG).
        case reply(Message)
        /// The task is taken: its source follows. It holds a slot and is listed in HEARTBEATs from now on.
        case accept(stream: UInt32, Heartbeat.HeldTask)
        /// Refuse the task on `stream` at once; its source chunks are swallowed up to END.
        case refuse(stream: UInt32, TaskFailed)
        /// The task's source is complete: run it.
        case start(stream: UInt32, Assign, source: ByteBuffer)
        /// An ASSIGN_OBJECT taken: run it, its source read from the object store.
        case startObject(stream: UInt32, AssignObject)
        /// CANCEL_TASK for a task that is running (or ignored: it already ended, PROTOCOL.md §10.1).
        case cancel(stream: UInt32)
        /// The coordinator asked for a drain: finish what runs, say GOAWAY(none), close and reconnect.
        case drain(deadlineMilliseconds: UInt32)
        /// A graceful GOAWAY: take nothing new, finish what runs; the coordinator closes when it is done.
        case coordinatorLeaving(GoAway)
        /// Connection error: close (with GOAWAY of this error when `sendGoAway`).
        case fail(ProtocolError, sendGoAway: Bool)
    }

    private struct Assembly {
        var assign: Assign
        var source: PayloadAssembler
    }

    let slots: Int
    let maxSourceBytes: UInt64
    private var assemblies: [UInt32: Assembly] = [:]
    /// Refused tasks whose source is still arriving: their chunks are discarded up to END.
    private var discarding: Set<UInt32> = []
    private var lastStreamID: UInt32 = 0
    private(set) var coordinatorIsLeaving = false

    init(slots: Int, maxSourceBytes: UInt64) {
        self.slots = max(1, slots)
        self.maxSourceBytes = maxSourceBytes
    }

    /// Tasks whose source is still arriving: they hold a slot too.
    var receiving: Int { assemblies.count }

    /// `running` is the number of tasks executing now (owned by the session, which they report to); it is
    /// read only for an ASSIGN.
    mutating func receive(_ frame: Frame, running: @autoclosure () -> Int) -> Action {
        let stream = frame.streamID
        guard let message = CoordinatorToWorker(frame.message) else {
            return .fail(
                ProtocolError.malformed("a worker does not expect \(frame.message.frameType)"), sendGoAway: true)
        }
        switch message {
        case .assign(let assign):
            if let failure = openTaskStream(stream, frame: "ASSIGN") { return failure }
            if let refusal = refusal(of: assign, running: running()) {
                discarding.insert(stream)
                return .refuse(stream: stream, refusal)
            }
            assemblies[stream] = Assembly(
                assign: assign, source: PayloadAssembler(expected: Int(assign.sourceSize)))
            return .accept(stream: stream, Heartbeat.HeldTask(taskID: assign.taskID, attempt: assign.attempt))
        case .assignObject(let assign):
            if let failure = openTaskStream(stream, frame: "ASSIGN_OBJECT") { return failure }
            // No source chunks follow: a refusal has nothing to discard.
            if let refusal = refusal(of: assign.assign, running: running()) { return .refuse(stream: stream, refusal) }
            return .startObject(stream: stream, assign)
        case .chunk(let chunk):
            if discarding.contains(stream) {
                if chunk.isLast { discarding.remove(stream) }
                return .none
            }
            // Taken out of the table so the source has one owner and appending never copies it.
            guard var assembly = assemblies.removeValue(forKey: stream) else {
                return .fail(ProtocolError.malformed("CHUNK on stream \(stream), which has no task"), sendGoAway: true)
            }
            do {
                guard try assembly.source.add(chunk) else {
                    assemblies[stream] = assembly
                    return .none
                }
            } catch {
                return .fail(error, sendGoAway: true)
            }
            return .start(stream: stream, assembly.assign, source: assembly.source.bytes)
        case .cancelTask(let cancel):
            if assemblies.removeValue(forKey: stream) != nil {
                discarding.insert(stream)  // its remaining chunks may still be on the way
                return .refuse(
                    stream: stream,
                    TaskFailed(
                        taskID: cancel.taskID, attempt: cancel.attempt, code: .cancelled, permanent: false,
                        message: "cancelled by the coordinator before its source was complete"))
            }
            return .cancel(stream: stream)
        case .drain(let drain):
            return .drain(deadlineMilliseconds: drain.deadlineMilliseconds)
        case .ping(let ping):
            return .reply(.pong(Pong(opaque: ping.opaque)))
        case .goAway(let goAway) where goAway.code == .none || goAway.code == .shuttingDown:
            coordinatorIsLeaving = true
            return .coordinatorLeaving(goAway)
        case .goAway(let goAway):
            return .fail(
                ProtocolError(goAway.code, "the coordinator closed the connection: \(goAway.message)"),
                sendGoAway: false)
        case .pong, .registered:
            return .none
        }
    }

    /// A task must open a new even stream above every earlier one; nil when this one does.
    private mutating func openTaskStream(_ stream: UInt32, frame: String) -> Action? {
        guard stream % 2 == 0, stream > lastStreamID else {
            return .fail(
                ProtocolError.malformed("\(frame) must open a new even stream above \(lastStreamID), got \(stream)"),
                sendGoAway: true)
        }
        lastStreamID = stream
        return nil
    }

    private func refusal(of assign: Assign, running: Int) -> TaskFailed? {
        if assign.sourceSize > maxSourceBytes {
            return TaskFailed(
                taskID: assign.taskID, attempt: assign.attempt, code: .sourceTooLarge, permanent: true,
                message: "source of \(assign.sourceSize) bytes is over this worker's limit of \(maxSourceBytes)")
        }
        if assign.sourceSize == 0 {
            return TaskFailed(
                taskID: assign.taskID, attempt: assign.attempt, code: .undecodableImage, permanent: true,
                message: "the source is empty")
        }
        if running + assemblies.count >= slots || coordinatorIsLeaving {
            return TaskFailed(
                taskID: assign.taskID, attempt: assign.attempt, code: .unavailable, permanent: false,
                message: "this worker has \(slots) slots and all are busy")
        }
        return nil
    }
}
