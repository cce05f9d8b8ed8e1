import Foundation
import NIOCore
import PixelFlowProtocol
import Testing

extension LiveCluster {
    /// A real `pixelflow worker` against a coordinator that misbehaves or goes away: the worker keeps its own
    /// limits and always comes back.
    @Suite("Worker resilience against a real worker process", .serialized)
    struct WorkerResilienceTests {
        static let pipeline = ByteBuffer(string: #"[{"id":"t","action":"resize","width":16,"format":"jpeg"}]"#)

        static func assign(_ task: UInt64, size: UInt64, timeLimit: UInt32 = 0) -> Frame {
            Frame(
                stream: UInt32(task * 2),
                .assign(
                    Assign(
                        taskID: task, attempt: 1, leaseMilliseconds: 10_000, timeLimitMilliseconds: timeLimit,
                        sourceSize: size, pipeline: pipeline)))
        }

        static func source(_ task: UInt64, _ bytes: [UInt8]) -> Frame {
            Frame(stream: UInt32(task * 2), .chunk(Chunk(raw: ByteBuffer(bytes: bytes), isLast: true)))
        }

        static func outcome(of frame: Frame) -> (task: UInt64, code: ErrorCode?)? {
            switch frame.message {
            case .taskDone(let done): (done.taskID, nil)
            case .taskFailed(let failed): (failed.taskID, failed.code)
            default: nil
            }
        }

        @Test(
            "a coordinator that accepts and never answers is given up after --handshake-timeout-ms; the worker tries again"
        )
        func silentCoordinator() throws {
            let fake = try FakeCoordinatorServer()
            let cluster = try ClusterProcesses()
            try cluster.startWorker(
                "w", slots: 1, coordinator: fake.address,
                extra: ["--null-engine", "--handshake-timeout-ms", "300", "--reconnect-delay-ms", "50"])
            let silent = try #require(fake.acceptSilently(timeout: .seconds(10)), "the worker never connected")
            defer { close(silent) }
            // Without a handshake deadline the worker would wait on the silent connection for ever.
            let again = try fake.acceptWorker(timeout: .seconds(5))
            #expect(again?.register.slots == 1, "the worker connected again and registered")
        }

        @Test(
            "a 2-slot worker sent 60 tasks at once runs 2 and refuses 58 with unavailable; a 1 TiB source is refused before any chunk"
        )
        func slotsAndSourceLimit() throws {
            let fake = try FakeCoordinatorServer()
            let cluster = try ClusterProcesses()
            try cluster.startWorker("w", slots: 2, coordinator: fake.address, extra: ["--null-engine"])
            guard let (link, register) = try fake.acceptWorker() else {
                throw ClusterProcesses.Failure("the worker did not connect")
            }
            #expect(register.slots == 2)
            for task in UInt64(1)...60 { link.send(.frame(Self.assign(task, size: 3))) }
            for task in UInt64(1)...60 { link.send(.frame(Self.source(task, [1, 2, 3]))) }
            var done = 0, refused = 0
            while done + refused < 60, let frame = try link.receive(until: { Self.outcome(of: $0) != nil }) {
                let (_, code) = Self.outcome(of: frame)!
                if code == nil { done += 1 } else if code == .unavailable { refused += 1 }
            }
            #expect(done == 2 && refused == 58, "done \(done), refused \(refused)")

            link.send(.frame(Self.assign(61, size: 1 << 40)))
            guard let frame = try link.receive(until: { Self.outcome(of: $0) != nil }),
                let (task, code) = Self.outcome(of: frame)
            else {
                throw ClusterProcesses.Failure("no answer to a 1 TiB ASSIGN")
            }
            #expect(task == 61 && code == .sourceTooLarge)
            #expect(cluster.workerRSS("w") < 200 << 20)
        }

        @Test(
            "a task whose source is still arriving is listed in HEARTBEATs, so its lease is renewed however slow the source"
        )
        func heartbeatListsReceivingTasks() throws {
            let fake = try FakeCoordinatorServer()
            let cluster = try ClusterProcesses()
            try cluster.startWorker("w", slots: 2, coordinator: fake.address, extra: ["--null-engine"])
            guard let (link, _) = try fake.acceptWorker(heartbeatMilliseconds: 200) else {
                throw ClusterProcesses.Failure("the worker did not connect")
            }
            link.send(.frame(Self.assign(1, size: 10)))
            link.send(.frame(Frame(stream: 2, .chunk(Chunk(raw: ByteBuffer(bytes: [1, 2, 3, 4, 5]), isLast: false)))))
            guard
                let frame = try link.receive(until: {
                    if case .heartbeat(let beat) = $0.message { !beat.tasks.isEmpty } else { false }
                }),
                case .heartbeat(let beat) = frame.message
            else { throw ClusterProcesses.Failure("no HEARTBEAT listed the task") }
            #expect(beat.tasks == [.init(taskID: 1, attempt: 1)] && beat.freeSlots == 1)
        }

        @Test("frame limits come from AUTH_OK: with 1 MiB chunks announced, a 1 MiB chunk is accepted")
        func announcedLimits() throws {
            var limits = ProtocolLimits.default
            limits.maxChunkData = 1 << 20
            let fake = try FakeCoordinatorServer(limits: limits)
            let cluster = try ClusterProcesses()
            try cluster.startWorker("w", slots: 1, coordinator: fake.address, extra: ["--null-engine"])
            guard let (link, _) = try fake.acceptWorker() else {
                throw ClusterProcesses.Failure("the worker did not connect")
            }
            link.send(.frame(Self.assign(1, size: 1 << 20)))
            link.send(.frame(Self.source(1, [UInt8](repeating: 7, count: 1 << 20))))
            guard let frame = try link.receive(until: { Self.outcome(of: $0) != nil }) else {
                throw ClusterProcesses.Failure("the worker closed instead of taking a 1 MiB chunk: \(cluster.log("w"))")
            }
            #expect(Self.outcome(of: frame)?.code == nil)
        }

        @Test("ASSIGN's time_limit_ms is applied: a task past it ends with TASK_FAILED(timeout), transient")
        func timeLimit() throws {
            let fake = try FakeCoordinatorServer()
            let cluster = try ClusterProcesses()
            try cluster.startWorker("w", slots: 1, coordinator: fake.address)
            guard let (link, _) = try fake.acceptWorker() else {
                throw ClusterProcesses.Failure("the worker did not connect")
            }
            let source = TestImages.jpeg(width: 3000, height: 2000)
            let slow = ByteBuffer(
                string: #"[{"id":"a","action":"resize","width":2400,"format":"avif","quality":60,"effort":9}]"#)
            link.send(
                .frame(
                    Frame(
                        stream: 2,
                        .assign(
                            Assign(
                                taskID: 1, attempt: 1, leaseMilliseconds: 10_000, timeLimitMilliseconds: 50,
                                sourceSize: UInt64(source.count), pipeline: slow)))))
            let pieces = stride(from: 0, to: source.count, by: 256 * 1024).map {
                Array(source[$0..<min(source.count, $0 + 256 * 1024)])
            }
            for (index, piece) in pieces.enumerated() {
                link.send(
                    .frame(
                        Frame(
                            stream: 2, .chunk(Chunk(raw: ByteBuffer(bytes: piece), isLast: index == pieces.count - 1))))
                )
            }
            let started = ContinuousClock.now
            guard let frame = try link.receive(until: { Self.outcome(of: $0) != nil }),
                case .taskFailed(let failed) = frame.message
            else {
                throw ClusterProcesses.Failure("no TASK_FAILED for a task past its time limit")
            }
            #expect(failed.code == .timeout && !failed.permanent)
            #expect(ContinuousClock.now - started < .seconds(5))
        }

        @Test(
            "DRAIN from the coordinator: the worker finishes, says GOAWAY(none), closes and connects again; it does not exit"
        )
        func drainThenReconnect() throws {
            let fake = try FakeCoordinatorServer()
            let cluster = try ClusterProcesses()
            try cluster.startWorker("w", slots: 1, coordinator: fake.address, extra: ["--null-engine"])
            guard let (link, _) = try fake.acceptWorker() else {
                throw ClusterProcesses.Failure("the worker did not connect")
            }
            link.send(.frame(Frame(.drain(Drain(deadlineMilliseconds: 1000)))))
            guard let frame = try link.receive(until: { if case .goAway = $0.message { true } else { false } }),
                case .goAway(let goAway) = frame.message
            else {
                throw ClusterProcesses.Failure("no GOAWAY after DRAIN")
            }
            #expect(goAway.code == .none)
            guard try fake.acceptWorker(timeout: .seconds(5)) != nil else {
                throw ClusterProcesses.Failure("the worker did not come back after a DRAIN: \(cluster.log("w"))")
            }
            #expect(cluster.workers["w"]?.isRunning == true)
        }

        @Test(
            "a coordinator killed and restarted on the same port: every worker is registered again within 5 s, twice over"
        )
        func coordinatorKilled() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator()
            for name in ["a", "b", "c"] { try cluster.startWorker(name, slots: 1, extra: ["--null-engine"]) }
            try await cluster.waitForWorkers(3)
            for round in 1...2 {
                try cluster.restartCoordinatorAfterKill()
                let restarted = ContinuousClock.now
                try await cluster.waitForWorkers(3, timeout: .seconds(5))
                #expect(ContinuousClock.now - restarted < .seconds(5), "round \(round)")
            }
            for name in ["a", "b", "c"] { #expect(cluster.workers[name]?.isRunning == true) }
        }
    }
}
