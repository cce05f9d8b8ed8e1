import Logging
import NIOCore
import PixelFlowCoordinator
import PixelFlowProtocol

/// The coordinator's work per job, and nothing else: a client submitting stream jobs (a 2 KiB source, one variant)
/// and a worker answering each ASSIGN at once with a variant and TASK_DONE, both on in-memory channels (EmbeddedPeer)
/// to one real `Coordinator`. Up to twice the worker's slots are in flight, so half the jobs wait in the queue —
/// as with `pfctl bench` against a null-engine worker, minus the sockets, the threads and the other processes.
struct CoordinatorJobPath {
    static let pipeline = #"[{"id":"thumb","action":"resize","width":150,"format":"webp"}]"#
    static let clientSecret = [UInt8](repeating: 1, count: 32)
    static let workerSecret = [UInt8](repeating: 2, count: 32)

    /// Warnings and errors only: the coordinator's info lines would be timed with the jobs.
    static var quietLogger: Logger {
        var logger = Logger(label: "pixelflow-bench.coordinator")
        logger.logLevel = .warning
        return logger
    }

    private let client: EmbeddedPeer
    private let worker: EmbeddedPeer
    private let slots: Int
    private let source = ByteBuffer(repeating: 0xA5, count: 2048)
    private let variantBytes = ByteBuffer(repeating: 0x5A, count: 64)
    private var nextStream: UInt32 = 1
    private var submitted = 0
    private(set) var finished = 0

    init(slots: Int) throws {
        var settings = CoordinatorSettings()
        settings.maxQueuedJobs = 1 << 30
        // Ended jobs are remembered up to this count: small, so every run measures the steady state in which each
        // job that ends also pushes the oldest out.
        settings.maxFinishedJobs = 1_000
        let coordinator = Coordinator(
            settings: settings,
            tenants: [
                TenantPolicy(keyID: "bench", secret: Self.clientSecret, rate: 1e12, burst: 1e12, maxQueued: 1 << 30)
            ],
            workerKeys: ["workers": Self.workerSecret], logger: Self.quietLogger)
        self.slots = slots
        worker = try EmbeddedPeer(coordinator: coordinator, port: 40_001)
        try worker.handshake(role: .worker, keyID: "workers", secret: Self.workerSecret)
        worker.queue(
            .frame(Frame(.register(Register(name: "bench", slots: UInt16(slots), formats: .webp, version: "bench")))))
        try worker.flush()
        guard case .registered? = try worker.receive().first?.message else {
            throw BenchFailure("the worker was not registered")
        }
        client = try EmbeddedPeer(coordinator: coordinator, port: 40_002)
        try client.handshake(role: .client, keyID: "bench", secret: Self.clientSecret)
    }

    /// Runs `jobs` more jobs to JOB_DONE; throws if one fails or the cluster stops moving.
    mutating func run(jobs: Int) throws {
        let target = finished + jobs
        var unsent = jobs
        while finished < target {
            while unsent > 0, submitted - finished < 2 * slots {
                submitOne()
                unsent -= 1
            }
            try client.flush()
            var moved = false
            for frame in try worker.receive() {
                guard case .assign(let assign) = frame.message else { continue }
                answer(assign, on: frame.streamID)
                moved = true
            }
            try worker.flush()
            for frame in try client.receive() {
                switch frame.message {
                case .jobDone:
                    finished += 1
                    moved = true
                case .jobFailed(let failure):
                    throw BenchFailure("a job failed: \(failure.code) \(failure.message)")
                case .rejected(let rejection):
                    throw BenchFailure("a job was rejected: \(rejection.code) \(rejection.message)")
                default:
                    continue
                }
            }
            guard moved else { throw BenchFailure("no job moved: \(finished) of \(target) done") }
        }
    }

    private mutating func submitOne() {
        let stream = nextStream
        nextStream += 2
        submitted += 1
        let submit = Submit(sourceSize: UInt64(source.readableBytes), pipeline: ByteBuffer(string: Self.pipeline))
        client.queue(.frame(Frame(stream: stream, .submit(submit))))
        client.queue(.frame(Frame(stream: stream, .chunk(Chunk(raw: source, isLast: true)))))
    }

    /// What a null-engine worker sends back for a task: one variant, its bytes, TASK_DONE.
    private func answer(_ assign: Assign, on stream: UInt32) {
        let header = VariantHeader(
            jobID: assign.taskID, attempt: assign.attempt, variantID: "thumb", format: "webp", width: 150, height: 100,
            size: UInt64(variantBytes.readableBytes), elapsedMilliseconds: 0)
        worker.queue(.frame(Frame(stream: stream, .variant(header))))
        worker.queue(.frame(Frame(stream: stream, .chunk(Chunk(raw: variantBytes, isLast: true)))))
        let done = TaskDone(
            taskID: assign.taskID, attempt: assign.attempt, variants: 1, elapsedMilliseconds: 0,
            usage: TaskUsage(cpuMilliseconds: 0, sourcePixels: 0))
        worker.queue(.frame(Frame(stream: stream, .taskDone(done))))
    }
}
