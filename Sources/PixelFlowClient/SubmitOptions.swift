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

    /// Options with the given fields; the defaults are no key, no webhook, normal priority and no deadline.
    public init(
        idempotencyKey: String? = nil, webhookURL: String? = nil, priority: UInt8 = 128, deadline: Duration? = nil
    ) {
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
