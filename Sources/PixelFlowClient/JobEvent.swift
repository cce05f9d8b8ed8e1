import PixelFlowProtocol

/// One encoded variant, with its bytes reassembled from the chunks that carried it.
public struct Variant: Sendable, Hashable {
    /// The pipeline variant's `id`.
    public var id: String
    /// `jpeg`, `png`, `webp`, `avif`, `heic` or `gif`.
    public var format: String
    public var width: Int
    public var height: Int
    public var bytes: [UInt8]
    /// Time the worker spent producing this variant.
    public var elapsedMilliseconds: Int
    /// The attempt that produced it (1 = first try).
    public var attempt: Int

    public init(id: String, format: String, width: Int, height: Int, bytes: [UInt8], elapsedMilliseconds: Int, attempt: Int) {
        self.id = id
        self.format = format
        self.width = width
        self.height = height
        self.bytes = bytes
        self.elapsedMilliseconds = elapsedMilliseconds
        self.attempt = attempt
    }
}

/// What `PixelFlowClient.process` yields, in order: `accepted` once, `variant` as each one finishes, then
/// `completed`. A rejection or a failed job ends the sequence with a `PixelFlowClientError` instead.
public enum JobEvent: Sendable, Hashable {
    /// The coordinator admitted the job. `duplicate` means an earlier job with the same idempotency key answers.
    case accepted(JobID, duplicate: Bool)
    case variant(Variant)
    case completed(JobDone)
}

/// What `wait` returns: the JOB_DONE of the job (variants produced, attempts used, elapsed time).
public typealias JobOutcome = JobDone

/// Options of a submission beyond the source and the pipeline.
public struct SubmitOptions: Sendable, Hashable {
    /// A resubmission with the same key (per tenant) returns the first job instead of running a new one.
    public var idempotencyKey: String?
    /// Called by the coordinator when an async job ends.
    public var webhookURL: String?
    /// 0 lowest … 255 highest; 128 is normal.
    public var priority: UInt8
    /// Dropped with `deadline_exceeded` unless running by then; `nil` = no deadline.
    public var deadline: Duration?

    public init(idempotencyKey: String? = nil, webhookURL: String? = nil, priority: UInt8 = 128, deadline: Duration? = nil) {
        self.idempotencyKey = idempotencyKey
        self.webhookURL = webhookURL
        self.priority = priority
        self.deadline = deadline
    }

    var deadlineMilliseconds: UInt32 {
        guard let deadline else { return 0 }
        let (seconds, attoseconds) = deadline.components
        let milliseconds = seconds * 1_000 + attoseconds / 1_000_000_000_000_000
        return UInt32(clamping: max(milliseconds, 1))
    }
}
