import NIOCore

/// Every PixelFlow v1 message. Which side may send each is `FrameType.senders`.
public enum Message: Sendable, Hashable {
    case hello(Hello)
    case auth(Auth)
    case authOK(AuthOK)
    case ping(Ping)
    case pong(Pong)
    case goAway(GoAway)
    case submit(Submit)
    case accepted(Accepted)
    case rejected(Rejected)
    case variant(VariantHeader)
    case jobDone(JobDone)
    case jobFailed(JobFailed)
    case cancel(Cancel)
    case statusRequest(StatusRequest)
    case status(JobStatus)
    case watch(Watch)
    case fetch(Fetch)
    case jobsRequest(JobsRequest)
    case jobList(JobList)
    case usageRequest(UsageRequest)
    case usage(UsageReport)
    case workersRequest(WorkersRequest)
    case workers(WorkerList)
    case statsRequest(StatsRequest)
    case stats(Stats)
    case register(Register)
    case registered(Registered)
    case assign(Assign)
    case assignObject(AssignObject)
    case variantStored(VariantStored)
    case taskDone(TaskDone)
    case taskFailed(TaskFailed)
    case heartbeat(Heartbeat)
    case drain(Drain)
    case cancelTask(CancelTask)
    case chunk(Chunk)

    public var frameType: FrameType {
        var frameType = FrameType.chunk
        visitPayload(FrameTypeReader(), &frameType)
        return frameType
    }

    /// Hands the message's body, in its own type, to `visitor`; CHUNK (whose flags carry part of its body) has none.
    /// Generic rather than an `any WirePayload`, so writing a frame neither boxes nor copies the body.
    private func visitPayload<Visitor: PayloadVisitor>(_ visitor: Visitor, _ context: inout Visitor.Context) {
        switch self {
        case .hello(let body): visitor.visit(body, &context)
        case .auth(let body): visitor.visit(body, &context)
        case .authOK(let body): visitor.visit(body, &context)
        case .ping(let body): visitor.visit(body, &context)
        case .pong(let body): visitor.visit(body, &context)
        case .goAway(let body): visitor.visit(body, &context)
        case .submit(let body): visitor.visit(body, &context)
        case .accepted(let body): visitor.visit(body, &context)
        case .rejected(let body): visitor.visit(body, &context)
        case .variant(let body): visitor.visit(body, &context)
        case .jobDone(let body): visitor.visit(body, &context)
        case .jobFailed(let body): visitor.visit(body, &context)
        case .cancel(let body): visitor.visit(body, &context)
        case .statusRequest(let body): visitor.visit(body, &context)
        case .status(let body): visitor.visit(body, &context)
        case .watch(let body): visitor.visit(body, &context)
        case .fetch(let body): visitor.visit(body, &context)
        case .jobsRequest(let body): visitor.visit(body, &context)
        case .jobList(let body): visitor.visit(body, &context)
        case .usageRequest(let body): visitor.visit(body, &context)
        case .usage(let body): visitor.visit(body, &context)
        case .workersRequest(let body): visitor.visit(body, &context)
        case .workers(let body): visitor.visit(body, &context)
        case .statsRequest(let body): visitor.visit(body, &context)
        case .stats(let body): visitor.visit(body, &context)
        case .register(let body): visitor.visit(body, &context)
        case .registered(let body): visitor.visit(body, &context)
        case .assign(let body): visitor.visit(body, &context)
        case .assignObject(let body): visitor.visit(body, &context)
        case .variantStored(let body): visitor.visit(body, &context)
        case .taskDone(let body): visitor.visit(body, &context)
        case .taskFailed(let body): visitor.visit(body, &context)
        case .heartbeat(let body): visitor.visit(body, &context)
        case .drain(let body): visitor.visit(body, &context)
        case .cancelTask(let body): visitor.visit(body, &context)
        case .chunk: break
        }
    }

    var flags: UInt8 {
        if case .chunk(let chunk) = self { return chunk.flags }
        return 0
    }

    func writePayload(to buffer: inout ByteBuffer) {
        if case .chunk(let chunk) = self { return chunk.write(to: &buffer) }
        visitPayload(PayloadWriter(), &buffer)
    }

    /// Decodes a complete payload of `type`; bytes left over are a protocol error.
    static func decode(
        type: FrameType, flags: UInt8, payload: inout ByteBuffer, limits: ProtocolLimits
    ) throws(ProtocolError) -> Message {
        if type == .chunk {
            return .chunk(try Chunk(flags: flags, payload: &payload, maxDecodedSize: Int(limits.maxChunkData)))
        }
        guard flags == 0 else {
            throw ProtocolError.malformed("\(type) frame has flags 0x\(String(flags, radix: 16)), must be 0")
        }
        let message: Message
        switch type {
        case .hello: message = .hello(try Hello(from: &payload))
        case .auth: message = .auth(try Auth(from: &payload))
        case .authOK: message = .authOK(try AuthOK(from: &payload))
        case .ping: message = .ping(try Ping(from: &payload))
        case .pong: message = .pong(try Pong(from: &payload))
        case .goAway: message = .goAway(try GoAway(from: &payload))
        case .submit: message = .submit(try Submit(from: &payload))
        case .accepted: message = .accepted(try Accepted(from: &payload))
        case .rejected: message = .rejected(try Rejected(from: &payload))
        case .variant: message = .variant(try VariantHeader(from: &payload))
        case .jobDone: message = .jobDone(try JobDone(from: &payload))
        case .jobFailed: message = .jobFailed(try JobFailed(from: &payload))
        case .cancel: message = .cancel(try Cancel(from: &payload))
        case .statusRequest: message = .statusRequest(try StatusRequest(from: &payload))
        case .status: message = .status(try JobStatus(from: &payload))
        case .watch: message = .watch(try Watch(from: &payload))
        case .fetch: message = .fetch(try Fetch(from: &payload))
        case .jobsRequest: message = .jobsRequest(try JobsRequest(from: &payload))
        case .jobList: message = .jobList(try JobList(from: &payload))
        case .usageRequest: message = .usageRequest(try UsageRequest(from: &payload))
        case .usage: message = .usage(try UsageReport(from: &payload))
        case .workersRequest: message = .workersRequest(try WorkersRequest(from: &payload))
        case .workers: message = .workers(try WorkerList(from: &payload))
        case .statsRequest: message = .statsRequest(try StatsRequest(from: &payload))
        case .stats: message = .stats(try Stats(from: &payload))
        case .register: message = .register(try Register(from: &payload))
        case .registered: message = .registered(try Registered(from: &payload))
        case .assign: message = .assign(try Assign(from: &payload))
        case .assignObject: message = .assignObject(try AssignObject(from: &payload))
        case .variantStored: message = .variantStored(try VariantStored(from: &payload))
        case .taskDone: message = .taskDone(try TaskDone(from: &payload))
        case .taskFailed: message = .taskFailed(try TaskFailed(from: &payload))
        case .heartbeat: message = .heartbeat(try Heartbeat(from: &payload))
        case .drain: message = .drain(try Drain(from: &payload))
        case .cancelTask: message = .cancelTask(try CancelTask(from: &payload))
        case .chunk: preconditionFailure("handled above")
        }
        guard payload.readableBytes == 0 else {
            throw ProtocolError.malformed("\(payload.readableBytes) bytes left over after the \(type) payload")
        }
        return message
    }
}

private protocol PayloadVisitor {
    associatedtype Context
    func visit<Payload: WirePayload>(_ payload: Payload, _ context: inout Context)
}

private struct FrameTypeReader: PayloadVisitor {
    func visit<Payload: WirePayload>(_ payload: Payload, _ frameType: inout FrameType) { frameType = Payload.frameType }
}

private struct PayloadWriter: PayloadVisitor {
    func visit<Payload: WirePayload>(_ payload: Payload, _ buffer: inout ByteBuffer) { payload.write(to: &buffer) }
}
