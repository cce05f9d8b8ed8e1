/// A job's id, as the coordinator assigned it. Printed and parsed as a decimal number.
public struct JobID: RawRepresentable, Hashable, Sendable, Comparable, LosslessStringConvertible {
    /// The id's number.
    public var rawValue: UInt64

    /// The job with this number.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The job with this number.
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// Parses a decimal id, as ``description`` prints it; nil if the text is not one.
    public init?(_ description: String) {
        guard let value = UInt64(description) else { return nil }
        rawValue = value
    }

    /// The id in decimal.
    public var description: String { String(rawValue) }

    /// Orders ids by number: the coordinator assigns them in increasing order.
    public static func < (lhs: JobID, rhs: JobID) -> Bool { lhs.rawValue < rhs.rawValue }
}
