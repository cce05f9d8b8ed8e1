import NIOCore
import PixelFlowProtocol

public typealias JobID = UInt64
public typealias WorkerID = UInt64

/// Where a job's results go: a request stream on a client connection.
public struct Subscriber: Sendable, Hashable {
    public var connection: UInt64
    public var stream: UInt32
    public init(connection: UInt64, stream: UInt32) {
        self.connection = connection
        self.stream = stream
    }
}

/// A job the coordinator holds: what to run, where it stands, and who waits for it.
public struct JobRecord: Sendable {
    public var id: JobID
    public var tenant: String
    public var priority: UInt8
    /// Empty when none; forgotten again if the job never gets its source.
    public var idempotencyKey: String
    public var pipeline: ByteBuffer
    public var variantCount: Int
    /// The output formats its pipeline encodes: it runs only on a worker that advertised them all.
    public var formats: OutputFormats = []
    /// The source's chunks, or its key in the object store; no chunks until the source is complete.
    public var source: TaskSource
    public var sourceSize: UInt64
    public var sourceComplete = false
    public var admittedAt: NIODeadline
    public var deadline: NIODeadline?
    /// Async jobs run to the end even when nobody watches; stream jobs are cancelled when their client leaves.
    public var keepsRunningUnwatched: Bool
    /// Kept in the job store (an async job on a coordinator with one): each step is written before it is told.
    public var isDurable = false
    /// In the store's write queue or committed: its end must be written too.
    public var isStored = false
    /// Source complete, its record on its way to the store: queued once that commits.
    public var isPersisting = false
    public var webhookURL = ""
    /// SHA-256 of the source: set when it is complete for jobs that are stored or have an idempotency key.
    public var sourceDigest: [UInt8]?
    /// What its webhook event will list: the variants delivered (kept only for jobs with a `webhook_url`).
    public var variantSummaries: [VariantHeader] = []
    public var state: JobStatus.State = .queued
    /// The current attempt; 0 until first assigned. Results of any other attempt are discarded.
    public var attempt: UInt16 = 0
    public var worker: WorkerID?
    public var leaseExpiry: NIODeadline?
    public var retryAt: NIODeadline?
    /// Variant ids already delivered to subscribers: a retried attempt never delivers one twice.
    public var delivered: Set<String> = []
    public var subscribers: [Subscriber] = []
    public var failure: (code: ErrorCode, message: String)?

    public var status: JobStatus {
        JobStatus(
            jobID: id, state: state, attempts: attempt, variantsDone: UInt16(clamping: delivered.count),
            code: failure?.code ?? .none, message: failure?.message ?? "")
    }
}
