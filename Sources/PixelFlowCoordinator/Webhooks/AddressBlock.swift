#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address block (`10.0.0.0/8`, `::1/128`, or one address), and the ranges a webhook may not reach
/// unless allowed: what keeps a tenant's `webhook_url` from making the coordinator call into its own network (SSRF).
public struct AddressBlock: Sendable, Hashable, CustomStringConvertible {
    /// 16 bytes; IPv4 as IPv4-mapped IPv6 (`::ffff:a.b.c.d`), so one comparison serves both.
    let network: [UInt8]
    let prefixLength: Int

    /// `a.b.c.d[/n]` or an IPv6 address `[/n]`; nil if it is neither.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let address = Self.parse(parts[0]) else { return nil }
        let isV4 = !parts[0].contains(":")
        let maximum = isV4 ? 32 : 128
        let length = parts.count == 2 ? Int(parts[1]) : maximum
        guard let length, (0...maximum).contains(length) else { return nil }
        network = address
        prefixLength = isV4 ? 96 + length : length
    }

    public func contains(_ address: [UInt8]) -> Bool {
        guard address.count == 16 else { return false }
        var remaining = prefixLength
        for index in 0..<16 where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            guard address[index] & mask == network[index] & mask else { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String {
        if network[0..<12] == Self.v4Mapped[0..<12] {
            return network[12...].map(String.init).joined(separator: ".") + "/\(prefixLength - 96)"
        }
        return Self.format(network) + "/\(prefixLength)"
    }

    /// Loopback, private (RFC 1918, unique local), link-local, carrier-grade NAT, "this network", multicast and
    /// the unspecified address: never a public webhook receiver.
    public static let notPublic: [AddressBlock] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
    ].compactMap(AddressBlock.init)

    static let v4Mapped: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0]

    /// 16 bytes for an IPv4 or IPv6 literal.
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return Array(v4Mapped[0..<12]) + withUnsafeBytes(of: v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }

    static func format(_ bytes: [UInt8]) -> String {
        if bytes[0..<12] == v4Mapped[0..<12] { return bytes[12...].map(String.init).joined(separator: ".") }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var v6 = in6_addr()
        withUnsafeMutableBytes(of: &v6) { $0.copyBytes(from: bytes) }
        guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
