import NIOCore

/// Backpressure towards one peer, as a pure state machine over what the channel reports: its writability,
/// the bytes queued in it, and the bytes it has drained to the socket so far.
///
/// - Not writable (the socket is full): stop reading the peer's new requests.
/// - Queued bytes over `budget`: congested — the cluster stops dispatching work whose results go only here.
/// - Not writable and nothing drained for `stallTimeout`: the peer is not reading at all; disconnect it.
struct OutboundPressure {
    let budget: UInt64
    let stallTimeout: TimeAmount
    private(set) var isWritable = true
    private(set) var isCongested = false
    /// When the current stall began: the last time drained bytes went up while not writable.
    private var stalledSince: NIODeadline?
    private var drainedAtLastProgress: UInt64 = 0

    init(budget: UInt64, stallTimeout: TimeAmount) {
        self.budget = budget
        self.stallTimeout = stallTimeout
    }

    enum Change: Equatable {
        case none
        /// Stop reading from the peer.
        case stopReading
        /// Read again; `relieved` when the connection was congested and no longer is.
        case resumeReading(relieved: Bool)
    }

    mutating func writabilityChanged(_ writable: Bool, drained: UInt64, now: NIODeadline) -> Change {
        guard writable != isWritable else { return .none }
        isWritable = writable
        if writable {
            stalledSince = nil
            let relieved = isCongested
            isCongested = false
            return .resumeReading(relieved: relieved)
        }
        stalledSince = now
        drainedAtLastProgress = drained
        return .stopReading
    }

    /// Bytes are queued towards the peer: true when this makes the connection congested.
    mutating func queued(buffered: UInt64) -> Bool {
        guard !isWritable, !isCongested, buffered > budget else { return false }
        isCongested = true
        return true
    }

    /// Called periodically: true when the peer has read nothing for the stall timeout.
    mutating func isStalled(drained: UInt64, now: NIODeadline) -> Bool {
        guard !isWritable, let since = stalledSince else { return false }
        if drained > drainedAtLastProgress {
            drainedAtLastProgress = drained
            stalledSince = now
            return false
        }
        return now - since >= stallTimeout
    }
}
