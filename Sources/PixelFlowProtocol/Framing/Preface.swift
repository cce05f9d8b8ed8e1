import NIOCore

/// The 8 bytes each side sends first (proto/PROTOCOL.md §2): `"PXFL" · min u8 · max u8 · reserved u16 (0)`.
/// The connecting peer states the range it speaks; the coordinator answers with the version it chose in both
/// bytes, or `0 · its max` when the ranges do not meet, and then closes.
public struct Preface: Sendable, Hashable {
    public static let magic: [UInt8] = Array("PXFL".utf8)
    public static let size = 8

    public var minVersion: UInt8
    public var maxVersion: UInt8

    public init(minVersion: UInt8, maxVersion: UInt8) {
        self.minVersion = minVersion
        self.maxVersion = maxVersion
    }

    /// What this implementation speaks.
    public static let supported = Preface(minVersion: ProtocolVersion.v1, maxVersion: ProtocolVersion.v2)

    /// The coordinator's answer choosing `version`.
    public static func chosen(_ version: UInt8) -> Preface { Preface(minVersion: version, maxVersion: version) }

    /// The highest version both ranges contain, if any.
    public func negotiate(with other: Preface) -> UInt8? {
        let low = max(minVersion, other.minVersion)
        let high = min(maxVersion, other.maxVersion)
        return low <= high && low > 0 ? high : nil
    }

    /// What a wrong start of a connection means. TLS records begin with 0x16 (handshake) or 0x15 (alert): that is
    /// a TLS peer on a plain port, or a TLS port answering a plain peer, and the error says so.
    static func notAPreface(_ seen: [UInt8]) -> ProtocolError {
        guard let first = seen.first, first == 0x16 || first == 0x15 else {
            return ProtocolError.malformed("connection does not start with the PXFL preface")
        }
        return ProtocolError.malformed(
            "connection does not start with the PXFL preface but with TLS: one side uses TLS and the other does not "
                + "(the coordinator's tls.cert; a client's or worker's --ca / PIXELFLOW_CA)")
    }

    static func read(from buffer: inout ByteBuffer) throws(ProtocolError) -> Preface? {
        guard buffer.readableBytes >= size else {
            // Refuse a wrong magic as soon as its bytes arrive, so garbage is not waited on.
            let available = min(buffer.readableBytes, magic.count)
            if let seen = buffer.getBytes(at: buffer.readerIndex, length: available),
                seen != Array(magic.prefix(available))
            {
                throw notAPreface(seen)
            }
            return nil
        }
        let seen = buffer.readBytes(length: 4) ?? []
        guard seen == magic else { throw notAPreface(seen) }
        let minVersion = buffer.readInteger(as: UInt8.self)!
        let maxVersion = buffer.readInteger(as: UInt8.self)!
        let reserved = buffer.readInteger(as: UInt16.self)!
        guard reserved == 0 else { throw ProtocolError.malformed("reserved preface bytes must be 0") }
        guard minVersion <= maxVersion else {
            throw ProtocolError(.unsupportedVersion, "preface range \(minVersion)...\(maxVersion) is empty")
        }
        return Preface(minVersion: minVersion, maxVersion: maxVersion)
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeBytes(Preface.magic)
        buffer.writeInteger(minVersion)
        buffer.writeInteger(maxVersion)
        buffer.writeInteger(UInt16(0))
    }
}

public enum ProtocolVersion {
    public static let v1: UInt8 = 1
    /// Adds FETCH, JOBS_REQUEST/JOB_LIST, USAGE_REQUEST/USAGE and the usage fields of TASK_DONE/TASK_FAILED.
    public static let v2: UInt8 = 2
}
