import Foundation
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decides whether a URL the coordinator is asked to call (a webhook, a `source_url`) may be called: its host is
/// resolved, and every address it resolves to must be public or inside the allow list (`allowKey` names its config
/// key in messages). (The HTTP client resolves the name again when it connects; a name whose answer changes in
/// between is the gap this check leaves, as every pre-connect check does.)
struct AddressGuard: Sendable {
    let allow: [AddressBlock]
    var subject = "webhook_url"
    var allowKey = "webhooks.allow"

    enum Problem: Error, Equatable {
        /// The URL may never be called (its addresses are not public and not allowed): the event fails.
        case refused(String)
        /// Its name does not resolve now: the attempt fails and is retried.
        case unresolved(String)

        var message: String {
            switch self {
            case .refused(let message), .unresolved(let message): message
            }
        }
    }

    /// Why the URL may not be called, or nil when it may.
    func problem(with url: String) async -> String? { await check(url)?.message }

    func check(_ url: String) async -> Problem? {
        guard let components = URLComponents(string: url), let rawHost = components.host, !rawHost.isEmpty else {
            return .refused("\(subject) \(url) has no host")
        }
        let host = rawHost.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let addresses: [[UInt8]]
        if let literal = AddressBlock.parse(host) {
            addresses = [literal]
        } else {
            do {
                addresses = try await NIOThreadPool.singleton.runIfActive { try Self.resolve(host) }
            } catch {
                return .unresolved("cannot resolve \(host): \(error)")
            }
        }
        guard !addresses.isEmpty else { return .unresolved("\(host) resolves to no address") }
        for address in addresses where !isAllowed(address) {
            return .refused(
                "\(host) resolves to \(AddressBlock.format(address)), which is loopback, private or link-local "
                    + "and not in \(allowKey)")
        }
        return nil
    }

    func isAllowed(_ address: [UInt8]) -> Bool {
        if allow.contains(where: { $0.contains(address) }) { return true }
        return !AddressBlock.notPublic.contains { $0.contains(address) }
    }

    /// Every IPv4 and IPv6 address of the name (getaddrinfo: blocking, so on a thread pool).
    private static func resolve(_ host: String) throws -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else { throw ResolveError(message: String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(list) }
        var addresses: [[UInt8]] = []
        var entry = list
        while let current = entry?.pointee {
            if current.ai_family == AF_INET, let raw = current.ai_addr {
                let v4 = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                addresses.append(Array(AddressBlock.v4Mapped[0..<12]) + withUnsafeBytes(of: v4) { Array($0) })
            } else if current.ai_family == AF_INET6, let raw = current.ai_addr {
                let v6 = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                addresses.append(withUnsafeBytes(of: v6) { Array($0) })
            }
            entry = current.ai_next
        }
        return addresses
    }

    struct ResolveError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
