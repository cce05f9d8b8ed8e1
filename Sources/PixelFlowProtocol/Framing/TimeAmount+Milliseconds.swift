import NIOCore

extension TimeAmount {
    /// Whole milliseconds, rounded up and clamped to the u32 the wire carries (`lease_ms`, `deadline_ms`, …).
    public var milliseconds: UInt32 {
        UInt32(clamping: (nanoseconds + 999_999) / 1_000_000)
    }
}
