/// The messages of each link after its handshake, one enum per direction (PROTOCOL.md §6–§7), so the code that
/// handles a link switches over exactly what may arrive on it, and a new message shows up at compile time in
/// every place that must handle it. `Message` stays the wire's one enum; each `init?(_:)` below is the one place
/// that says which of its cases belong to a direction (the same split as `FrameType.senders`).

/// What an authenticated client sends the coordinator.
public enum ClientToCoordinator: Sendable, Hashable {
    case submit(Submit)
    case chunk(Chunk)
    case cancel(Cancel)
    case statusRequest(StatusRequest)
    case watch(Watch)
    case fetch(Fetch)
    case jobsRequest(JobsRequest)
    case usageRequest(UsageRequest)
    case workersRequest
    case statsRequest
    case ping(Ping)
    case pong(Pong)
    case goAway(GoAway)

    /// nil for a message a client does not send after the handshake.
    public init?(_ message: Message) {
        switch message {
        case .submit(let body): self = .submit(body)
        case .chunk(let body): self = .chunk(body)
        case .cancel(let body): self = .cancel(body)
        case .statusRequest(let body): self = .statusRequest(body)
        case .watch(let body): self = .watch(body)
        case .fetch(let body): self = .fetch(body)
        case .jobsRequest(let body): self = .jobsRequest(body)
        case .usageRequest(let body): self = .usageRequest(body)
        case .workersRequest: self = .workersRequest
        case .statsRequest: self = .statsRequest
        case .ping(let body): self = .ping(body)
        case .pong(let body): self = .pong(body)
        case .goAway(let body): self = .goAway(body)
        case .hello, .auth, .authOK, .accepted, .rejected, .variant, .jobDone, .jobFailed, .status, .workers, .stats,
            .jobList, .usage, .register, .registered, .assign, .assignObject, .variantStored, .taskDone, .taskFailed,
            .heartbeat, .drain, .cancelTask:
            return nil
        }
    }
}

/// What the coordinator sends a client.
public enum CoordinatorToClient: Sendable, Hashable {
    case accepted(Accepted)
    case rejected(Rejected)
    case variant(VariantHeader)
    case chunk(Chunk)
    case jobDone(JobDone)
    case jobFailed(JobFailed)
    case status(JobStatus)
    case workers(WorkerList)
    case stats(Stats)
    case jobList(JobList)
    case usage(UsageReport)
    case ping(Ping)
    case pong(Pong)
    case goAway(GoAway)

    /// nil for a message the coordinator does not send a client after the handshake.
    public init?(_ message: Message) {
        switch message {
        case .accepted(let body): self = .accepted(body)
        case .rejected(let body): self = .rejected(body)
        case .variant(let body): self = .variant(body)
        case .chunk(let body): self = .chunk(body)
        case .jobDone(let body): self = .jobDone(body)
        case .jobFailed(let body): self = .jobFailed(body)
        case .status(let body): self = .status(body)
        case .workers(let body): self = .workers(body)
        case .stats(let body): self = .stats(body)
        case .jobList(let body): self = .jobList(body)
        case .usage(let body): self = .usage(body)
        case .ping(let body): self = .ping(body)
        case .pong(let body): self = .pong(body)
        case .goAway(let body): self = .goAway(body)
        case .hello, .auth, .authOK, .submit, .cancel, .statusRequest, .watch, .fetch, .jobsRequest, .usageRequest,
            .workersRequest, .statsRequest,
            .register, .registered, .assign, .assignObject, .variantStored, .taskDone, .taskFailed, .heartbeat, .drain,
            .cancelTask:
            return nil
        }
    }
}

/// What an authenticated worker sends the coordinator (REGISTER first).
public enum WorkerToCoordinator: Sendable, Hashable {
    case register(Register)
    case heartbeat(Heartbeat)
    case variant(VariantHeader)
    case variantStored(VariantStored)
    case chunk(Chunk)
    case taskDone(TaskDone)
    case taskFailed(TaskFailed)
    case drain(Drain)
    case ping(Ping)
    case pong(Pong)
    case goAway(GoAway)

    /// nil for a message a worker does not send after the handshake.
    public init?(_ message: Message) {
        switch message {
        case .register(let body): self = .register(body)
        case .heartbeat(let body): self = .heartbeat(body)
        case .variant(let body): self = .variant(body)
        case .variantStored(let body): self = .variantStored(body)
        case .chunk(let body): self = .chunk(body)
        case .taskDone(let body): self = .taskDone(body)
        case .taskFailed(let body): self = .taskFailed(body)
        case .drain(let body): self = .drain(body)
        case .ping(let body): self = .ping(body)
        case .pong(let body): self = .pong(body)
        case .goAway(let body): self = .goAway(body)
        case .hello, .auth, .authOK, .submit, .accepted, .rejected, .jobDone, .jobFailed, .cancel, .statusRequest,
            .status, .watch, .fetch, .jobsRequest, .jobList, .usageRequest, .usage, .workersRequest, .workers,
            .statsRequest, .stats, .registered, .assign, .assignObject, .cancelTask:
            return nil
        }
    }
}

/// What the coordinator sends a worker.
public enum CoordinatorToWorker: Sendable, Hashable {
    case registered(Registered)
    case assign(Assign)
    case assignObject(AssignObject)
    case chunk(Chunk)
    case cancelTask(CancelTask)
    case drain(Drain)
    case ping(Ping)
    case pong(Pong)
    case goAway(GoAway)

    /// nil for a message the coordinator does not send a worker after the handshake.
    public init?(_ message: Message) {
        switch message {
        case .registered(let body): self = .registered(body)
        case .assign(let body): self = .assign(body)
        case .assignObject(let body): self = .assignObject(body)
        case .chunk(let body): self = .chunk(body)
        case .cancelTask(let body): self = .cancelTask(body)
        case .drain(let body): self = .drain(body)
        case .ping(let body): self = .ping(body)
        case .pong(let body): self = .pong(body)
        case .goAway(let body): self = .goAway(body)
        case .hello, .auth, .authOK, .submit, .accepted, .rejected, .variant, .jobDone, .jobFailed, .cancel,
            .statusRequest, .status, .watch, .fetch, .jobsRequest, .jobList, .usageRequest, .usage, .workersRequest,
            .workers, .statsRequest,
            .stats, .register, .variantStored, .taskDone, .taskFailed, .heartbeat:
            return nil
        }
    }
}
