/// Durations as people write them in flags, config files and query strings: a number of seconds, or a number
/// with an s, m, h or d suffix ("90m", "24h", "7d").
public enum DurationText {
    /// The seconds `text` stands for, or nil when it is not a non-negative duration.
    public static func seconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        let unit = text.last.flatMap { units[$0] }
        guard let number = Double(unit == nil ? text : String(text.dropLast())), number.isFinite, number >= 0 else {
            return nil
        }
        return number * (unit ?? 1)
    }
}
