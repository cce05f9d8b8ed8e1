import Foundation

/// The rules for SUBMIT's `webhook_url` (PROTOCOL.md §6.2): empty, or an absolute http(s) URL with a host,
/// at most 2048 bytes, without spaces or control characters.
enum WebhookURL {
    static let maxLength = 2048

    /// Why `url` is not acceptable; nil when it is.
    static func problem(with url: String) -> String? {
        if url.isEmpty { return nil }
        guard url.utf8.count <= maxLength else { return "webhook_url is longer than \(maxLength) bytes" }
        guard url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            return "webhook_url contains spaces or control characters"
        }
        let lowered = url.lowercased()
        guard let scheme = ["https://", "http://"].first(where: { lowered.hasPrefix($0) }) else {
            return "webhook_url must start with http:// or https://"
        }
        let rest = url.dropFirst(scheme.count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let host = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? ""
        guard !host.isEmpty, !host.hasPrefix(":") else { return "webhook_url has no host" }
        // What is left to a real parser: the port, percent-escapes, brackets.
        guard let components = URLComponents(string: url), components.host?.isEmpty == false else {
            return "webhook_url is not a valid URL"
        }
        return nil
    }
}
