import NIOCore

/// When the frame now being received started to arrive (nil between frames). The decoder sets it; the
/// connection reads it to close a peer that sends half a frame and stops. Used only on its channel's event
/// loop, by the decoder and the handler of that one connection.
public final class PartialFrameClock: @unchecked Sendable {
    public private(set) var pendingSince: NIODeadline?

    public init() {}

    func bytesPending() {
        if pendingSince == nil { pendingSince = .now() }
    }

    func frameCompleted() {
        pendingSince = nil
    }

    /// The reader paused (backpressure) for `pause`: that time is not the peer's.
    public func shift(by pause: TimeAmount) {
        pendingSince = pendingSince.map { $0 + pause }
    }
}
