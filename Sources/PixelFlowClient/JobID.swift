/// A job's id, as the coordinator assigned it. Printed and parsed as a decimal number.
public struct JobID: RawRepresentable, Hashable, Sendable, Comparable, LosslessStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public init?(_ description: String) {
        guard let value = UInt64(description) else { return nil }
        rawValue = value
    }

    public var description: String { String(rawValue) }

    public static func < (lhs: JobID, rhs: JobID) -> Bool { lhs.rawValue < rhs.rawValue }
}
