/// Durations as people write them in flags, config files and query strings: a number of seconds, or a number
/// with an s, m, h or d suffix ("90m", "24h", "7d").
public enum DurationText {
    /// The seconds `text` stands for, or nil when it is not a non-negative duration.
    public static func seconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        let unit = text.last.flatMap { units[$0] }
        let digits = unit == nil ? Substring(text) : text.dropLast()
        // Plain decimals only: Double() would also take "1e55", "inf" or "0x10".
        guard digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), digits.filter({ $0 == "." }).count <= 1,
            let number = Double(digits), number.isFinite
        else { return nil }
        return number * (unit ?? 1)
    }
}
