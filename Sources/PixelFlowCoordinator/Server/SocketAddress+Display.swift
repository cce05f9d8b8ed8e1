import NIOCore

extension SocketAddress {
    /// `1.2.3.4:5678` or `[::1]:5678`, as people write addresses (NIO's description adds the family and host name).
    public var hostAndPort: String {
        switch self {
        case .v6: "[\(ipAddress ?? "::")]:\(port ?? 0)"
        case .v4: "\(ipAddress ?? "?"):\(port ?? 0)"
        case .unixDomainSocket: "unix:\(pathname ?? "?")"
        }
    }
}
