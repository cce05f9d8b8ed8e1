/// The type byte of a frame header. Values are the wire values (proto/PROTOCOL.md §5).
public enum FrameType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    // Connection frames (stream 0).
    case hello = 0x01
    case auth = 0x02
    case authOK = 0x03
    case ping = 0x04
    case pong = 0x05
    case goAway = 0x06

    // Client ↔ coordinator.
    case submit = 0x10
    case accepted = 0x11
    case rejected = 0x12
    case variant = 0x13
    case jobDone = 0x14
    case jobFailed = 0x15
    case cancel = 0x16
    case statusRequest = 0x17
    case status = 0x18
    case watch = 0x19
    case workersRequest = 0x1A
    case workers = 0x1B
    case statsRequest = 0x1C
    case stats = 0x1D
    /// Protocol v2.
    case fetch = 0x1E
    /// Protocol v2.
    case jobsRequest = 0x1F
    /// Protocol v2.
    case jobList = 0x20
    /// Protocol v2.
    case usageRequest = 0x21
    /// Protocol v2.
    case usage = 0x22

    // Worker ↔ coordinator.
    case register = 0x30
    case registered = 0x31
    case assign = 0x32
    case taskDone = 0x33
    case taskFailed = 0x34
    case heartbeat = 0x35
    case drain = 0x36
    case cancelTask = 0x37
    /// Protocol v2, to workers that set REGISTER's `objects` bit.
    case assignObject = 0x38
    /// Protocol v2, answering ASSIGN_OBJECT.
    case variantStored = 0x39

    // Bulk data on any link.
    case chunk = 0x40

    public var name: String {
        switch self {
        case .hello: "HELLO"
        case .auth: "AUTH"
        case .authOK: "AUTH_OK"
        case .ping: "PING"
        case .pong: "PONG"
        case .goAway: "GOAWAY"
        case .submit: "SUBMIT"
        case .accepted: "ACCEPTED"
        case .rejected: "REJECTED"
        case .variant: "VARIANT"
        case .jobDone: "JOB_DONE"
        case .jobFailed: "JOB_FAILED"
        case .cancel: "CANCEL"
        case .statusRequest: "STATUS_REQUEST"
        case .status: "STATUS"
        case .watch: "WATCH"
        case .workersRequest: "WORKERS_REQUEST"
        case .workers: "WORKERS"
        case .statsRequest: "STATS_REQUEST"
        case .stats: "STATS"
        case .fetch: "FETCH"
        case .jobsRequest: "JOBS_REQUEST"
        case .jobList: "JOB_LIST"
        case .usageRequest: "USAGE_REQUEST"
        case .usage: "USAGE"
        case .register: "REGISTER"
        case .registered: "REGISTERED"
        case .assign: "ASSIGN"
        case .taskDone: "TASK_DONE"
        case .taskFailed: "TASK_FAILED"
        case .heartbeat: "HEARTBEAT"
        case .drain: "DRAIN"
        case .cancelTask: "CANCEL_TASK"
        case .assignObject: "ASSIGN_OBJECT"
        case .variantStored: "VARIANT_STORED"
        case .chunk: "CHUNK"
        }
    }

    public var description: String { name }

    /// Connection frames travel on stream 0; every other frame on a non-zero stream.
    public var isConnectionFrame: Bool {
        switch self {
        case .hello, .auth, .authOK, .ping, .pong, .goAway, .register, .registered, .heartbeat, .drain: true
        case .submit, .accepted, .rejected, .variant, .jobDone, .jobFailed, .cancel, .statusRequest, .status,
            .watch, .fetch, .jobsRequest, .jobList, .usageRequest, .usage, .workersRequest, .workers, .statsRequest,
            .stats, .assign, .assignObject, .variantStored,
            .taskDone, .taskFailed,
            .cancelTask, .chunk:
            false
        }
    }

    /// The roles that may send this type (PROTOCOL.md §5 "Sent by").
    public var senders: Set<PeerRole> { Set(PeerRole.allCases.filter { senderBits & $0.bit != 0 }) }

    /// `senders` as a bit set (bit n for the role of raw value n): checked on every frame received, so without
    /// hashing a set.
    public var senderBits: UInt8 {
        switch self {
        case .hello, .authOK, .accepted, .jobDone, .jobFailed, .status, .workers, .stats, .jobList, .usage, .rejected,
            .registered, .assign, .assignObject, .cancelTask:
            PeerRole.coordinator.bit
        case .auth: PeerRole.client.bit | PeerRole.worker.bit
        case .ping, .pong, .goAway, .chunk: PeerRole.client.bit | PeerRole.worker.bit | PeerRole.coordinator.bit
        case .submit, .cancel, .statusRequest, .watch, .workersRequest, .statsRequest, .fetch, .jobsRequest,
            .usageRequest:
            PeerRole.client.bit
        case .variant, .drain: PeerRole.coordinator.bit | PeerRole.worker.bit
        case .register, .taskDone, .taskFailed, .heartbeat, .variantStored: PeerRole.worker.bit
        }
    }
}

/// The three kinds of peer on a PixelFlow connection. Clients and workers state theirs in AUTH (wire values).
public enum PeerRole: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case client = 1
    case worker = 2
    case coordinator = 3

    /// This role's bit in a `FrameType.senderBits`-style set.
    public var bit: UInt8 { 1 << rawValue }

    public var description: String {
        switch self {
        case .client: "client"
        case .worker: "worker"
        case .coordinator: "coordinator"
        }
    }
}
