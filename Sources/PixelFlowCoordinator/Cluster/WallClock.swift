import Foundation
import NIOCore

/// Converts the scheduler's monotonic deadlines to wall-clock Unix milliseconds and back, from one anchor taken at
/// start: the store keeps wall-clock times, which still mean something after a restart.
public struct WallClock: Sendable {
    let anchor: NIODeadline
    let anchorUnixMilliseconds: Int64

    public init(anchor: NIODeadline, unixMilliseconds: Int64) {
        self.anchor = anchor
        self.anchorUnixMilliseconds = unixMilliseconds
    }

    /// The system's clock now, paired with `now`.
    public static func system(now: NIODeadline = .now()) -> WallClock {
        WallClock(anchor: now, unixMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
    }

    public func unixMilliseconds(at deadline: NIODeadline) -> Int64 {
        anchorUnixMilliseconds + (deadline - anchor).nanoseconds / 1_000_000
    }

    public func deadline(atUnixMilliseconds milliseconds: Int64) -> NIODeadline {
        anchor + .milliseconds(milliseconds - anchorUnixMilliseconds)
    }
}
