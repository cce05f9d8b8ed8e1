import Foundation
import PixelFlowProtocol

/// `GET /v1/usage?since=`: a duration back from now (90m, 24h, 7d, or seconds), an RFC 3339 time, or Unix seconds
/// (a number of 9 digits or more; a shorter one is a duration).
enum UsageSince {
    static func seconds(_ text: String, now: UInt64) -> UInt64? {
        if text.count >= 9, let unix = UInt64(text) { return unix }
        if let back = DurationText.seconds(text) { return now - min(now, UInt64(back)) }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds],
        ] {
            formatter.formatOptions = options
            if let date = formatter.date(from: text), date.timeIntervalSince1970 >= 0 {
                return UInt64(date.timeIntervalSince1970)
            }
        }
        return nil
    }
}
