import NIOCore
import PixelFlowProtocol
import Testing

@testable import PixelFlowCoordinator

/// The coordinator's connection logic, action by action, with a hand-moved clock and the cluster's replies made
/// up by the test (postgres-nio's ConnectionStateMachineTests style). No channel, no lock.
@Suite("Coordinator connection state machine")
struct ConnectionStateMachineTests {
    static let secret: [UInt8] = Array(repeating: 7, count: 32)
    var now = NIODeadline.uptimeNanoseconds(5_000_000_000)
    var settings = CoordinatorSettings()

    /// A machine whose peer has completed the handshake as `role` (a real one, driven by the client's own machine).
    func authenticated(
        _ role: PeerRole, validate: @escaping PipelineValidator = { _ in .success(PipelineSummary(variantCount: 1)) }
    ) throws
        -> CoordinatorConnectionStateMachine
    {
        let secrets = StaticSecrets([.init(keyID: "acme", role: role): Self.secret])
        var machine = CoordinatorConnectionStateMachine(
            handshake: ServerHandshakeStateMachine(secrets: secrets, limits: settings.limits), settings: settings,
            validatePipeline: validate, now: now)
        var peer = ClientHandshakeStateMachine(role: role, keyID: "acme", secret: Self.secret)
        var toPeer = Self.written(machine.received(peer.opening, now: now))
        var auth: WireElement?
        for element in toPeer {
            if case .send(let elements) = peer.receive(element) { auth = elements.first }
        }
        let authElement = try #require(auth)
        #expect(summary(machine.received(authElement, now: now)) == ["cluster loginAllowed"])
        let established = machine.clusterReplied(.loginWait(nil), now: now)
        #expect(summary(established) == ["cluster loginSucceeded", "established"])
        toPeer = established.compactMap { if case .established(let reply) = $0 { reply } else { nil } }
        guard case .established = peer.receive(toPeer[0]) else {
            Issue.record("the peer did not accept AUTH_OK")
            return machine
        }
        return machine
    }

    static func written(_ actions: [ConnectionAction]) -> [WireElement] {
        actions.compactMap { if case .write(let element) = $0 { element } else { nil } }
    }

    static func frame(_ stream: UInt32, _ message: Message) -> WireElement { .frame(Frame(stream: stream, message)) }

    static func frame(_ message: Message) -> WireElement { .frame(Frame(message)) }

    static func submit(size: UInt64 = 4, mode: Submit.Mode = .stream) -> WireElement {
        frame(1, .submit(Submit(mode: mode, sourceSize: size, pipeline: ByteBuffer(string: "[]"))))
    }

    static func chunk(_ stream: UInt32, _ bytes: [UInt8], last: Bool) -> WireElement {
        frame(stream, .chunk(Chunk(raw: ByteBuffer(bytes: bytes), isLast: last)))
    }

    // MARK: Handshake

    @Test("AUTH waits for the address's failed-login check; a throttled address is refused with login_throttled")
    func throttledLogin() {
        var machine = CoordinatorConnectionStateMachine(
            handshake: ServerHandshakeStateMachine(secrets: StaticSecrets([:])), settings: settings,
            validatePipeline: { _ in .success(PipelineSummary(variantCount: 1)) }, now: now)
        var peer = ClientHandshakeStateMachine(role: .client, keyID: "acme", secret: Self.secret)
        var auth: WireElement?
        for element in Self.written(machine.received(peer.opening, now: now)) {
            if case .send(let elements) = peer.receive(element) { auth = elements.first }
        }
        #expect(summary(machine.received(auth ?? .preface(.supported), now: now)) == ["cluster loginAllowed"])
        #expect(summary(machine.clusterReplied(.loginWait(.seconds(2)), now: now)) == ["refuse login_throttled"])
        #expect(machine.received(Self.frame(.ping(Ping(opaque: 1))), now: now).isEmpty)  // closing: ignored
    }

    @Test("a wrong secret is refused as unauthorized and counted as a failed login")
    func wrongSecret() {
        let secrets = StaticSecrets([.init(keyID: "acme", role: .client): Self.secret])
        var machine = CoordinatorConnectionStateMachine(
            handshake: ServerHandshakeStateMachine(secrets: secrets), settings: settings,
            validatePipeline: { _ in .success(PipelineSummary(variantCount: 1)) }, now: now)
        var peer = ClientHandshakeStateMachine(role: .client, keyID: "acme", secret: [1, 2, 3])
        var auth: WireElement?
        for element in Self.written(machine.received(peer.opening, now: now)) {
            if case .send(let elements) = peer.receive(element) { auth = elements.first }
        }
        _ = machine.received(auth ?? .preface(.supported), now: now)
        #expect(
            summary(machine.clusterReplied(.loginWait(nil), now: now)) == [
                "cluster loginFailed", "refuse unauthorized",
            ])
    }

    // MARK: Client link

    @Test("SUBMIT asks for admission; the source's last CHUNK queues the job and ACCEPTED follows the cluster's yes")
    func submitAndUpload() throws {
        var machine = try authenticated(.client, validate: { _ in .success(PipelineSummary(variantCount: 3)) })
        let admit = machine.received(Self.submit(size: 4, mode: .async), now: now)
        guard case .cluster(.admit(let request)) = admit.first else {
            Issue.record("no admission asked: \(summary(admit))")
            return
        }
        #expect(request.pipeline.variantCount == 3 && request.stream == 1 && request.tenant == "acme")
        #expect(machine.clusterReplied(.admission(request, .admitted(9)), now: now).isEmpty)
        #expect(machine.received(Self.chunk(1, [1, 2], last: false), now: now).isEmpty)
        let complete = machine.received(Self.chunk(1, [3, 4], last: true), now: now)
        guard case .cluster(.sourceComplete(1, 9, let source, let bytes, let digest, false)) = complete.first else {
            Issue.record("source not handed over: \(summary(complete))")
            return
        }
        #expect(source.reduce(0) { $0 + $1.decodedSize } == 4)
        #expect(bytes == ByteBuffer(bytes: [1, 2, 3, 4]))
        #expect(digest == SHA256Digest.of(bytes), "an async job's source is hashed: it may be stored under its hash")
        let accepted = machine.clusterReplied(
            .sourceStored(stream: 1, job: 9, isStreamMode: false, .queued), now: now)
        #expect(summary(accepted) == ["write ACCEPTED s1"])
    }

    @Test("FETCH of an ended job: the stored variants are read off the loop and sent one by one, then the outcome")
    func fetchEnded() throws {
        var machine = try authenticated(.client)
        #expect(summary(machine.received(Self.frame(1, .fetch(Fetch(jobID: 9))), now: now)) == ["cluster fetch"])
        let read = machine.clusterReplied(.fetch(stream: 1, 9, .ended), now: now)
        #expect(summary(read) == ["read stored job 9 s1"])
        let header = VariantHeader(
            jobID: 9, attempt: 1, variantID: "t", format: "webp", width: 1, height: 1, size: 3, elapsedMilliseconds: 1)
        let outcome = Message.jobDone(JobDone(jobID: 9, variants: 1, attempts: 1, elapsedMilliseconds: 5))
        #expect(machine.isFetching(9, on: 1))
        let sent = machine.storedVariantRead(9, on: 1, header, ByteBuffer(bytes: [1, 2, 3]))
        #expect(summary(sent) == ["write VARIANT+1 s1"])
        #expect(summary(machine.storedResultEnded(9, on: 1, .success(outcome))) == ["write JOB_DONE s1"])
        #expect(!machine.isFetching(9, on: 1))
        #expect(machine.storedVariantRead(9, on: 1, header, ByteBuffer(bytes: [1, 2, 3])).isEmpty, "the stream ended")
        #expect(machine.storedResultEnded(9, on: 1, .success(outcome)).isEmpty)
    }

    @Test("FETCH of a live job: live variants are not relayed; its outcome triggers the stored read")
    func fetchLive() throws {
        var machine = try authenticated(.client)
        _ = machine.received(Self.frame(1, .fetch(Fetch(jobID: 9))), now: now)
        #expect(machine.clusterReplied(.fetch(stream: 1, 9, .waiting), now: now).isEmpty)
        let header = VariantHeader(
            jobID: 9, attempt: 1, variantID: "t", format: "webp", width: 1, height: 1, size: 1, elapsedMilliseconds: 1)
        #expect(machine.deliver(.variant(stream: 1, header, [])).isEmpty)
        let outcome = Message.jobDone(JobDone(jobID: 9, variants: 1, attempts: 1, elapsedMilliseconds: 5))
        #expect(summary(machine.deliver(.outcome(stream: 1, outcome))) == ["read stored job 9 s1"])
        let failed = machine.storedResultEnded(
            9, on: 1, .failure(ProtocolError(.storageError, "blob ab12… is damaged")))
        #expect(summary(failed) == ["write REJECTED(storage_error) s1"])
        _ = machine.received(Self.frame(3, .fetch(Fetch(jobID: 10))), now: now)
        #expect(
            summary(machine.clusterReplied(.fetch(stream: 3, 10, .notStored), now: now)) == [
                "write REJECTED(not_found) s3"
            ])
    }

    @Test("FETCH on a connection that chose protocol v1 is an unknown frame type, as a v1 coordinator would say")
    func fetchNeedsVersion2() {
        var link = ClientLink(
            tenant: "acme", version: ProtocolVersion.v1,
            rules: ClientRules(
                settings: settings, validatePipeline: { _ in .success(PipelineSummary(variantCount: 1)) }))
        #expect(throws: ProtocolError.self) {
            _ = try link.receive(.fetch(Fetch(jobID: 1)), on: 1, now: now)
        }
    }

    @Test("a stored async job is ACCEPTED only once its record commits, or REJECTED(storage_error) if it cannot")
    func acceptedAfterCommit() throws {
        var machine = try authenticated(.client)
        #expect(
            machine.clusterReplied(.sourceStored(stream: 1, job: 9, isStreamMode: false, .persisting), now: now)
                .isEmpty)
        #expect(machine.deliver(.accepted(stream: 1, 8)).isEmpty, "another job's acknowledgement is not this stream's")
        #expect(summary(machine.deliver(.accepted(stream: 1, 9))) == ["write ACCEPTED s1"])
        #expect(machine.deliver(.accepted(stream: 1, 9)).isEmpty, "the stream ended with its ACCEPTED")
        _ = machine.clusterReplied(.sourceStored(stream: 3, job: 10, isStreamMode: false, .persisting), now: now)
        let refused = machine.deliver(
            .refused(stream: 3, 10, Rejected(code: .storageError, retryAfterMilliseconds: 1000, message: "disk full")))
        #expect(summary(refused) == ["write REJECTED(storage_error) s3"])
    }

    @Test(
        "an async job cancelled during its upload is answered REJECTED(cancelled); a stream one already has its outcome"
    )
    func cancelledDuringUpload() throws {
        var machine = try authenticated(.client)
        let async = machine.clusterReplied(
            .sourceStored(stream: 1, job: 9, isStreamMode: false, .ended), now: now)
        #expect(summary(async) == ["write REJECTED(cancelled) s1"])
        #expect(
            machine.clusterReplied(.sourceStored(stream: 3, job: 10, isStreamMode: true, .ended), now: now)
                .isEmpty)
    }

    @Test("a pipeline the validator refuses is REJECTED at once and its source swallowed up to END, never admitted")
    func invalidPipeline() throws {
        var machine = try authenticated(
            .client, validate: { _ in .failure(ProtocolError(.invalidPipeline, "pipeline[0].width: must be > 0")) })
        #expect(summary(machine.received(Self.submit(size: 4), now: now)) == ["write REJECTED(invalid_pipeline) s1"])
        #expect(machine.received(Self.chunk(1, [1, 2, 3, 4], last: true), now: now).isEmpty)
        // The stream is closed now: another CHUNK on it is a protocol error.
        #expect(summary(machine.received(Self.chunk(1, [1], last: true), now: now)) == ["fail protocol_error"])
    }

    @Test("a client sending a worker's frame, or reusing a stream id, is sent GOAWAY; nothing after is read")
    func clientViolations() throws {
        var wrongRole = try authenticated(.client)
        let heartbeat = Self.frame(.heartbeat(Heartbeat(freeSlots: 1, tasks: [])))
        #expect(summary(wrongRole.received(heartbeat, now: now)) == ["fail wrong_role"])
        #expect(wrongRole.received(Self.frame(.ping(Ping(opaque: 1))), now: now).isEmpty)

        var reused = try authenticated(.client)
        #expect(
            summary(reused.received(Self.frame(3, .statusRequest(StatusRequest(jobID: 1))), now: now)) == [
                "cluster status"
            ])
        #expect(
            summary(reused.received(Self.frame(3, .statusRequest(StatusRequest(jobID: 1))), now: now)) == [
                "fail protocol_error"
            ])
    }

    @Test("results reach only the stream awaiting that job; the outcome ends the stream")
    func deliveries() throws {
        var machine = try authenticated(.client)
        guard case .cluster(.admit(let request)) = machine.received(Self.submit(size: 1), now: now).first else {
            Issue.record("no admission")
            return
        }
        _ = machine.clusterReplied(.admission(request, .admitted(5)), now: now)
        _ = machine.received(Self.chunk(1, [1], last: true), now: now)
        _ = machine.clusterReplied(.sourceStored(stream: 1, job: 5, isStreamMode: true, .queued), now: now)
        let header = VariantHeader(
            jobID: 5, attempt: 1, variantID: "t", format: "jpeg", width: 1, height: 1, size: 1, elapsedMilliseconds: 1)
        let chunk = Chunk(raw: ByteBuffer(bytes: [1]), isLast: true)
        #expect(summary(machine.deliver(.variant(stream: 1, header, [chunk]))) == ["write VARIANT+1 s1"])
        var other = header
        other.jobID = 6
        #expect(machine.deliver(.variant(stream: 1, other, [chunk])).isEmpty)
        let done = Message.jobDone(JobDone(jobID: 5, variants: 1, attempts: 1, elapsedMilliseconds: 3))
        #expect(summary(machine.deliver(.outcome(stream: 1, done))) == ["write JOB_DONE s1"])
        #expect(machine.deliver(.outcome(stream: 1, done)).isEmpty)
        #expect(summary(machine.closed()) == ["cluster clientClosed"])
    }

    @Test("a WATCH over max_in_flight is refused; a WATCH of an ended job answers its outcome and frees the stream")
    mutating func watch() throws {
        settings.limits.maxInFlight = 1
        var machine = try authenticated(.client)
        #expect(summary(machine.received(Self.frame(1, .watch(Watch(jobID: 4))), now: now)) == ["cluster watch"])
        #expect(machine.clusterReplied(.watch(stream: 1, 4, .subscribed), now: now).isEmpty)
        #expect(
            summary(machine.received(Self.frame(3, .watch(Watch(jobID: 4))), now: now)) == [
                "write REJECTED(too_many_in_flight) s3"
            ])
        let failed = Message.jobFailed(JobFailed(jobID: 4, code: .cancelled, attempts: 0, message: "x"))
        #expect(summary(machine.deliver(.outcome(stream: 1, failed))) == ["write JOB_FAILED s1"])
        #expect(summary(machine.received(Self.frame(5, .watch(Watch(jobID: 4))), now: now)) == ["cluster watch"])
        #expect(
            summary(machine.clusterReplied(.watch(stream: 5, 4, .ended(failed)), now: now)) == ["write JOB_FAILED s5"])
    }

    // MARK: Worker link

    @Test("a worker must REGISTER first; then tasks get even streams and results go to the cluster")
    func workerLink() throws {
        var early = try authenticated(.worker)
        #expect(
            summary(early.received(Self.frame(.heartbeat(Heartbeat(freeSlots: 1, tasks: []))), now: now)) == [
                "fail protocol_error"
            ])

        var machine = try authenticated(.worker)
        let register = Self.frame(.register(Register(name: "w1", slots: 2, formats: [.jpeg], version: "1")))
        #expect(summary(machine.received(register, now: now)) == ["cluster registerWorker"])
        #expect(summary(machine.clusterReplied(.registered(3), now: now)) == ["write REGISTERED s0"])
        let assign = Assign(
            taskID: 8, attempt: 1, leaseMilliseconds: 1, timeLimitMilliseconds: 1, sourceSize: 1, pipeline: ByteBuffer()
        )
        #expect(
            summary(machine.deliver(.assign(assign, [Chunk(raw: ByteBuffer(bytes: [1]), isLast: true)]))) == [
                "write ASSIGN+1 s2"
            ])
        #expect(summary(machine.deliver(.cancelTask(job: 8, attempt: 1))) == ["write CANCEL_TASK s2"])
        #expect(machine.deliver(.cancelTask(job: 8, attempt: 2)).isEmpty)
        let header = VariantHeader(
            jobID: 8, attempt: 1, variantID: "t", format: "png", width: 1, height: 1, size: 2, elapsedMilliseconds: 1)
        #expect(machine.received(Self.frame(2, .variant(header)), now: now).isEmpty)
        #expect(summary(machine.received(Self.chunk(2, [1, 2], last: true), now: now)) == ["cluster variantReceived"])
        let usage = TaskUsage(cpuMilliseconds: 5, sourcePixels: 100)
        let done = Self.frame(
            2, .taskDone(TaskDone(taskID: 8, attempt: 1, variants: 1, elapsedMilliseconds: 1, usage: usage)))
        #expect(summary(machine.received(done, now: now)) == ["cluster taskDone"])
        // The stream ended with TASK_DONE: a second one is a protocol error.
        #expect(summary(machine.received(done, now: now)) == ["fail protocol_error"])
        #expect(summary(machine.closed()) == ["cluster workerClosed"])
    }

    @Test(
        "an ASSIGN_OBJECT task's variants come as VARIANT_STORED; VARIANT on its stream, or VARIANT_STORED on an ASSIGN's, closes the link"
    )
    func objectTasks() throws {
        func registered() throws -> CoordinatorConnectionStateMachine {
            var machine = try authenticated(.worker)
            let register = Register(name: "w1", slots: 4, formats: [.jpeg, .objects], version: "1")
            _ = machine.received(Self.frame(.register(register)), now: now)
            _ = machine.clusterReplied(.registered(3), now: now)
            return machine
        }
        let assignObject = AssignObject(
            taskID: 8, attempt: 1, leaseMilliseconds: 1, timeLimitMilliseconds: 1, sourceSize: 1,
            sourceURL: "http://127.0.0.1:1/s", pipeline: ByteBuffer(),
            outputs: [.init(variantID: "t", putURL: "http://127.0.0.1:1/t")])
        let header = VariantHeader(
            jobID: 8, attempt: 1, variantID: "t", format: "png", width: 1, height: 1, size: 2, elapsedMilliseconds: 1)

        var machine = try registered()
        #expect(summary(machine.deliver(.assignObject(assignObject))) == ["write ASSIGN_OBJECT s2"])
        #expect(
            summary(machine.received(Self.frame(2, .variantStored(VariantStored(header))), now: now)) == [
                "cluster variantStored"
            ])
        #expect(summary(machine.received(Self.frame(2, .variant(header)), now: now)) == ["fail protocol_error"])

        var chunked = try registered()
        let assign = Assign(
            taskID: 8, attempt: 1, leaseMilliseconds: 1, timeLimitMilliseconds: 1, sourceSize: 1, pipeline: ByteBuffer()
        )
        _ = chunked.deliver(.assign(assign, []))
        #expect(
            summary(chunked.received(Self.frame(2, .variantStored(VariantStored(header))), now: now)) == [
                "fail protocol_error"
            ])
    }

    @Test("VARIANT_STORED on a worker link that chose protocol v1 is an unknown frame type")
    func variantStoredNeedsVersion2() {
        var link = WorkerLink(workerID: 1, version: ProtocolVersion.v1, maxVariantBytes: 1 << 20)
        let stream = link.openTask(job: 8, attempt: 1, storesObjects: true)
        let header = VariantHeader(
            jobID: 8, attempt: 1, variantID: "t", format: "png", width: 1, height: 1, size: 2, elapsedMilliseconds: 1)
        let error = #expect(throws: ProtocolError.self) {
            _ = try link.receive(.variantStored(VariantStored(header)), on: stream, chunkSize: 1024)
        }
        #expect(error?.code == .unknownFrameType)
    }

    @Test("a variant over the size limit from a worker closes the link before any byte is buffered")
    mutating func oversizedVariant() throws {
        settings.limits.maxVariantBytes = 10
        var machine = try authenticated(.worker)
        _ = machine.received(
            Self.frame(.register(Register(name: "w", slots: 1, formats: [.jpeg], version: "1"))), now: now)
        _ = machine.clusterReplied(.registered(1), now: now)
        let assign = Assign(
            taskID: 1, attempt: 1, leaseMilliseconds: 1, timeLimitMilliseconds: 1, sourceSize: 1, pipeline: ByteBuffer()
        )
        _ = machine.deliver(.assign(assign, []))
        let header = VariantHeader(
            jobID: 1, attempt: 1, variantID: "t", format: "png", width: 1, height: 1, size: 11, elapsedMilliseconds: 1)
        #expect(summary(machine.received(Self.frame(2, .variant(header)), now: now)) == ["fail protocol_error"])
    }

    @Test("GOAWAY from the coordinator: clients only, or everyone; at once or after the open streams")
    func goAwayDeliveries() throws {
        let goAway = GoAway(code: .shuttingDown, message: "bye")
        var client = try authenticated(.client)
        var worker = try authenticated(.worker)
        #expect(summary(client.deliver(.goAway(goAway, close: false, clientsOnly: true))) == ["write GOAWAY s0"])
        #expect(worker.deliver(.goAway(goAway, close: false, clientsOnly: true)).isEmpty)
        #expect(
            summary(worker.deliver(.goAway(goAway, close: true, clientsOnly: false))) == ["write GOAWAY s0", "close"])
    }

    // MARK: Timeouts and backpressure

    @Test("idle: no request and no PING for idle_timeout closes; a PING in time keeps the connection")
    mutating func idleTimeout() throws {
        settings.idleTimeout = .seconds(60)
        var machine = try authenticated(.client)
        let quiet = OutputLevel(drained: 0, buffered: 0)
        now = now + .seconds(59)
        #expect(machine.housekeep(now: now, output: quiet, partialFrameSince: nil).isEmpty)
        #expect(summary(machine.received(Self.frame(.ping(Ping(opaque: 1))), now: now)) == ["write PONG s0"])
        now = now + .seconds(2)
        #expect(machine.housekeep(now: now, output: quiet, partialFrameSince: nil).isEmpty)
        now = now + .seconds(60)
        #expect(summary(machine.housekeep(now: now, output: quiet, partialFrameSince: nil)) == ["fail idle_timeout"])
    }

    @Test("a frame started and not finished within frame_timeout closes the connection")
    func partialFrame() throws {
        var machine = try authenticated(.worker)
        let started = now
        let later = now + settings.frameTimeout
        #expect(
            summary(
                machine.housekeep(now: later, output: OutputLevel(drained: 0, buffered: 0), partialFrameSince: started))
                == ["fail idle_timeout"])
    }

    @Test("an admitted upload that goes quiet is abandoned and answered REJECTED(timeout)")
    mutating func uploadIdle() throws {
        var machine = try authenticated(.client)
        guard case .cluster(.admit(let request)) = machine.received(Self.submit(size: 100), now: now).first else {
            Issue.record("no admission")
            return
        }
        _ = machine.clusterReplied(.admission(request, .admitted(2)), now: now)
        now = now + settings.uploadIdleTimeout + .seconds(1)
        let actions = machine.housekeep(now: now, output: OutputLevel(drained: 0, buffered: 0), partialFrameSince: nil)
        #expect(summary(actions) == ["cluster abandonUpload", "write REJECTED(timeout) s1"])
    }

    @Test("a full socket pauses a client's reading, a budget's worth queued congests it, writable again undoes both")
    mutating func backpressure() throws {
        var machine = try authenticated(.client)
        let over = OutputLevel(drained: 0, buffered: settings.maxOutboundBytes + 1)
        #expect(
            summary(machine.writabilityChanged(false, output: over, now: now)) == [
                "pause reading", "cluster clientCongested",
            ])
        now = now + .seconds(1)
        #expect(
            summary(machine.writabilityChanged(true, output: OutputLevel(drained: 10, buffered: 0), now: now)) == [
                "resume reading", "cluster clientCongested",
            ])

        var worker = try authenticated(.worker)
        _ = worker.received(
            Self.frame(.register(Register(name: "w", slots: 1, formats: [.jpeg], version: "1"))), now: now)
        _ = worker.clusterReplied(.registered(1), now: now)
        // A worker's heartbeats and results must keep flowing: it is never paused, only marked congested.
        #expect(summary(worker.writabilityChanged(false, output: over, now: now)) == ["cluster workerCongested"])
    }

    @Test("a peer that reads nothing for write_stall_timeout is closed as slow_reader")
    mutating func stalledReader() throws {
        var machine = try authenticated(.client)
        let stuck = OutputLevel(drained: 100, buffered: 10)
        _ = machine.writabilityChanged(false, output: stuck, now: now)
        now = now + settings.writeStallTimeout
        #expect(summary(machine.housekeep(now: now, output: stuck, partialFrameSince: nil)) == ["fail slow_reader"])
    }
}

/// One line per action, for readable expectations.
func summary(_ actions: [ConnectionAction]) -> [String] {
    actions.map { action in
        switch action {
        case .write(.frame(let frame)): "write \(name(frame.message)) s\(frame.streamID)"
        case .write(.preface): "write preface"
        case .writeWithChunks(let stream, let message, let chunks): "write \(name(message))+\(chunks.count) s\(stream)"
        case .established: "established"
        case .refuse(let error, _): "refuse \(error.code.name)"
        case .fail(let error): "fail \(error.code.name)"
        case .close: "close"
        case .pauseReading: "pause reading"
        case .resumeReading: "resume reading"
        case .cluster(let request): "cluster \(String(describing: request).prefix { $0 != "(" })"
        case .readStoredResult(let stream, let job, _): "read stored job \(job) s\(stream)"
        case .queryStore(let stream, .jobs, _): "read job list s\(stream)"
        case .queryStore(let stream, .usage, _): "read usage s\(stream)"
        }
    }
}

private func name(_ message: Message) -> String {
    if case .rejected(let rejected) = message { return "REJECTED(\(rejected.code.name))" }
    return message.frameType.name
}

/// TASK_DONE and TASK_FAILED end with the task's usage exactly on v2 worker links.
@Suite struct WorkerLinkUsageTests {
    static let usage = TaskUsage(cpuMilliseconds: 12, sourcePixels: 3_000)

    static func link(version: UInt8) -> WorkerLink {
        var link = WorkerLink(workerID: 1, version: version, maxVariantBytes: 1 << 20)
        _ = link.openTask(job: 8, attempt: 1)
        return link
    }

    static func outcome(done: Bool, usage: TaskUsage?) -> WorkerToCoordinator {
        done
            ? .taskDone(TaskDone(taskID: 8, attempt: 1, variants: 0, elapsedMilliseconds: 1, usage: usage))
            : .taskFailed(
                TaskFailed(taskID: 8, attempt: 1, code: .timeout, permanent: false, message: "slow", usage: usage))
    }

    @Test(arguments: [true, false])
    func v2RequiresTheUsageFields(done: Bool) throws {
        var withUsage = Self.link(version: 2)
        #expect(try withUsage.receive(Self.outcome(done: done, usage: Self.usage), on: 2, chunkSize: 1024).count == 1)
        var without = Self.link(version: 2)
        #expect(throws: ProtocolError.self) {
            try without.receive(Self.outcome(done: done, usage: nil), on: 2, chunkSize: 1024)
        }
    }

    @Test(arguments: [true, false])
    func v1RefusesThem(done: Bool) throws {
        var plain = Self.link(version: 1)
        #expect(try plain.receive(Self.outcome(done: done, usage: nil), on: 2, chunkSize: 1024).count == 1)
        var extra = Self.link(version: 1)
        #expect(throws: ProtocolError.self) {
            try extra.receive(Self.outcome(done: done, usage: Self.usage), on: 2, chunkSize: 1024)
        }
    }
}

/// TASK_DONE ends with `decode_ms` exactly when the worker's REGISTER set the `timings` bit on a v2 link.
@Suite struct WorkerLinkTimingsTests {
    static func link(version: UInt8 = 2, formats: OutputFormats) -> WorkerLink {
        var link = WorkerLink(workerID: 1, version: version, formats: formats, maxVariantBytes: 1 << 20)
        _ = link.openTask(job: 8, attempt: 1)
        return link
    }

    static func done(usage: TaskUsage? = WorkerLinkUsageTests.usage, decode: UInt32?) -> WorkerToCoordinator {
        .taskDone(
            TaskDone(
                taskID: 8, attempt: 1, variants: 0, elapsedMilliseconds: 9, usage: usage, decodeMilliseconds: decode))
    }

    @Test func theBitRequiresDecodeMilliseconds() throws {
        var reporting = Self.link(formats: [.jpeg, .timings])
        let actions = try reporting.receive(Self.done(decode: 7), on: 2, chunkSize: 1024)
        guard case .cluster(.taskDone(_, let done)) = try #require(actions.first) else {
            Issue.record("expected the task's outcome for the cluster, got \(actions)")
            return
        }
        #expect(done.decodeMilliseconds == 7)
        var silent = Self.link(formats: [.jpeg, .timings])
        #expect(throws: ProtocolError.self) { try silent.receive(Self.done(decode: nil), on: 2, chunkSize: 1024) }
    }

    @Test func withoutTheBitDecodeMillisecondsIsLeftOver() throws {
        var plain = Self.link(formats: [.jpeg])
        #expect(try plain.receive(Self.done(decode: nil), on: 2, chunkSize: 1024).count == 1)
        var extra = Self.link(formats: [.jpeg])
        #expect(throws: ProtocolError.self) { try extra.receive(Self.done(decode: 7), on: 2, chunkSize: 1024) }
    }

    @Test func aV1LinkIgnoresTheBit() throws {
        var v1 = Self.link(version: 1, formats: [.jpeg, .timings])
        #expect(try v1.receive(Self.done(usage: nil, decode: nil), on: 2, chunkSize: 1024).count == 1)
    }

    @Test func taskFailedNeverCarriesIt() throws {
        var reporting = Self.link(formats: [.jpeg, .timings])
        let failed = WorkerLinkUsageTests.outcome(done: false, usage: WorkerLinkUsageTests.usage)
        #expect(try reporting.receive(failed, on: 2, chunkSize: 1024).count == 1)
    }
}
