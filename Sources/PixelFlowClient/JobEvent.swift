/// What ``PixelFlowClient/process(source:pipeline:options:)`` yields, in order: ``accepted(_:duplicate:)`` once,
/// ``variant(_:)`` as each variant finishes, then ``completed(_:)``. A rejection or a failed job ends the sequence
/// with a ``PixelFlowClientError`` instead.
public enum JobEvent: Sendable, Hashable {
    /// The coordinator admitted the job. `duplicate` means an earlier job with the same idempotency key answers.
    case accepted(JobID, duplicate: Bool)
    /// One variant, complete, as soon as the worker has encoded it.
    case variant(Variant)
    /// Every variant has arrived: the job succeeded.
    case completed(JobOutcome)
}
