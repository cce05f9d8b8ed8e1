import NIOCore
import PixelFlowProtocol
import Testing

@testable import PixelFlowWorker

/// The worker's own limits, whatever the coordinator sends.
@Suite("Worker link state machine")
struct WorkerLinkStateMachineTests {
    static let pipeline = ByteBuffer(string: #"[{"id":"t","action":"resize","width":10,"format":"jpeg"}]"#)

    static func assign(_ task: UInt64, size: UInt64) -> Frame {
        Frame(
            stream: UInt32(task * 2),
            .assign(
                Assign(
                    taskID: task, attempt: 1, leaseMilliseconds: 1000, timeLimitMilliseconds: 0, sourceSize: size,
                    pipeline: pipeline)))
    }

    static func chunk(_ task: UInt64, _ bytes: [UInt8], last: Bool) -> Frame {
        Frame(stream: UInt32(task * 2), .chunk(Chunk(raw: ByteBuffer(bytes: bytes), isLast: last)))
    }

    @Test("never more tasks than slots: the extra ASSIGNs are refused at once, transiently, and their chunks swallowed")
    func slots() {
        var machine = WorkerLinkStateMachine(slots: 2, maxSourceBytes: 1 << 20)
        #expect(
            machine.receive(Self.assign(1, size: 3), running: 0) == .accept(stream: 2, .init(taskID: 1, attempt: 1)))
        #expect(
            machine.receive(Self.assign(2, size: 3), running: 0) == .accept(stream: 4, .init(taskID: 2, attempt: 1)))
        var refused = 0
        for task in UInt64(3)...60 {
            guard case .refuse(_, let failure) = machine.receive(Self.assign(task, size: 3), running: 0) else {
                Issue.record("task \(task) was taken beyond 2 slots")
                continue
            }
            #expect(failure.code == .unavailable && !failure.permanent)
            #expect(machine.receive(Self.chunk(task, [1, 2, 3], last: true), running: 0) == .none)
            refused += 1
        }
        #expect(refused == 58)
        guard
            case .start(_, let assign, let source) = machine.receive(Self.chunk(1, [7, 8, 9], last: true), running: 0)
        else {
            Issue.record("a complete source did not start its task")
            return
        }
        #expect(assign.taskID == 1 && Array(source.readableBytesView) == [7, 8, 9])
        // Task 1 now runs and task 2 is still receiving: both slots are taken.
        guard case .refuse = machine.receive(Self.assign(61, size: 3), running: 1) else {
            Issue.record("a third task was taken while two held the slots")
            return
        }
    }

    @Test("ASSIGN_OBJECT starts at once (no chunks), within the same slots and limits as ASSIGN")
    func objectTasks() {
        var machine = WorkerLinkStateMachine(slots: 1, maxSourceBytes: 1 << 20)
        func assignObject(_ task: UInt64, size: UInt64) -> Frame {
            Frame(
                stream: UInt32(task * 2),
                .assignObject(
                    AssignObject(
                        taskID: task, attempt: 1, leaseMilliseconds: 1000, timeLimitMilliseconds: 0, sourceSize: size,
                        sourceURL: "http://127.0.0.1:1/source", pipeline: Self.pipeline,
                        outputs: [.init(variantID: "t", putURL: "http://127.0.0.1:1/t.jpg")])))
        }
        guard case .startObject(let stream, let assign) = machine.receive(assignObject(1, size: 3), running: 0) else {
            Issue.record("an ASSIGN_OBJECT within the slots did not start")
            return
        }
        #expect(stream == 2 && assign.taskID == 1 && machine.receiving == 0)
        guard case .refuse(_, let busy) = machine.receive(assignObject(2, size: 3), running: 1) else {
            Issue.record("a task was taken beyond the one slot")
            return
        }
        #expect(busy.code == .unavailable && !busy.permanent)
        guard case .refuse(_, let large) = machine.receive(assignObject(3, size: 1 << 30), running: 0) else {
            Issue.record("a source over the limit was taken")
            return
        }
        #expect(large.code == .sourceTooLarge && large.permanent)
        guard case .fail = machine.receive(assignObject(1, size: 3), running: 0) else {
            Issue.record("a stream id below the last one was taken")
            return
        }
    }

    @Test("a source over the worker's own limit is refused from the ASSIGN alone, permanently")
    func sourceLimit() {
        var machine = WorkerLinkStateMachine(slots: 2, maxSourceBytes: 64 << 20)
        guard case .refuse(_, let failure) = machine.receive(Self.assign(1, size: 1 << 40), running: 0) else {
            Issue.record("a 1 TiB source was accepted")
            return
        }
        #expect(failure.code == .sourceTooLarge && failure.permanent)
        #expect(machine.receiving == 0, "nothing is buffered for it")
    }

    @Test(
        "chunks beyond the declared size, on unknown streams, or a non-increasing ASSIGN stream are connection errors")
    func violations() {
        var machine = WorkerLinkStateMachine(slots: 2, maxSourceBytes: 1 << 20)
        _ = machine.receive(Self.assign(1, size: 2), running: 0)
        guard case .fail(let error, true) = machine.receive(Self.chunk(1, [1, 2, 3], last: true), running: 0) else {
            Issue.record("an oversized source was accepted")
            return
        }
        #expect(error.code == .protocolError)
        guard case .fail = machine.receive(Self.chunk(9, [1], last: true), running: 0) else {
            Issue.record("a chunk on an unknown stream was accepted")
            return
        }
        guard case .fail = machine.receive(Self.assign(1, size: 2), running: 0) else {
            Issue.record("a reused stream id was accepted")
            return
        }
    }

    @Test(
        "DRAIN and a graceful GOAWAY keep the connection; an error GOAWAY ends it; after a graceful GOAWAY nothing new is taken"
    )
    func connectionFrames() {
        var machine = WorkerLinkStateMachine(slots: 2, maxSourceBytes: 1 << 20)
        #expect(
            machine.receive(Frame(.drain(Drain(deadlineMilliseconds: 500))), running: 0)
                == .drain(deadlineMilliseconds: 500))
        #expect(machine.receive(Frame(.ping(Ping(opaque: 7))), running: 0) == .reply(.pong(Pong(opaque: 7))))
        guard
            case .coordinatorLeaving = machine.receive(
                Frame(.goAway(GoAway(code: .shuttingDown, message: "bye"))), running: 0)
        else {
            Issue.record("a graceful GOAWAY ended the link")
            return
        }
        guard case .refuse(_, let failure) = machine.receive(Self.assign(1, size: 3), running: 0) else {
            Issue.record("a task was taken after the coordinator said it is leaving")
            return
        }
        #expect(failure.code == .unavailable)
        guard
            case .fail(let error, false) = machine.receive(
                Frame(.goAway(GoAway(code: .protocolError, message: "x"))), running: 0)
        else {
            Issue.record("an error GOAWAY did not end the link")
            return
        }
        #expect(error.code == .protocolError)
    }

    @Test("CANCEL_TASK while the source is still arriving is answered at once, and the rest of the source swallowed")
    func cancelDuringUpload() {
        var machine = WorkerLinkStateMachine(slots: 2, maxSourceBytes: 1 << 20)
        _ = machine.receive(Self.assign(1, size: 6), running: 0)
        _ = machine.receive(
            Frame(stream: 2, .chunk(Chunk(raw: ByteBuffer(bytes: [1, 2, 3]), isLast: false))), running: 0)
        guard
            case .refuse(2, let failure) = machine.receive(
                Frame(stream: 2, .cancelTask(CancelTask(taskID: 1, attempt: 1))), running: 0)
        else {
            Issue.record("a cancelled upload went unanswered")
            return
        }
        #expect(failure.code == .cancelled && !failure.permanent)
        #expect(machine.receive(Self.chunk(1, [4, 5, 6], last: true), running: 0) == .none)
        #expect(machine.receiving == 0)
    }
}
