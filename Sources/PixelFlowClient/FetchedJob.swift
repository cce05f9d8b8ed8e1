/// What ``PixelFlowClient/fetch(_:)`` returns: an async job's stored variants and how it ended.
public struct FetchedJob: Sendable, Hashable {
    /// The variants in the order the job produced them.
    public var variants: [Variant]
    public var outcome: JobOutcome

    public init(variants: [Variant], outcome: JobOutcome) {
        self.variants = variants
        self.outcome = outcome
    }
}
