import NIOCore

/// How `source_type: url` sources are fetched (config `sources.*`).
public struct SourceSettings: Sendable {
    /// Addresses a source URL may reach although they are loopback, private or link-local (`sources.allow`: CIDR
    /// blocks or single addresses). Checked after DNS resolution, on every redirect hop.
    public var allow: [AddressBlock] = []
    /// For the whole fetch, redirects included (`sources.fetch_timeout_ms`).
    public var timeout: TimeAmount = .seconds(30)
    /// Redirects followed at most (`sources.max_redirects`).
    public var maxRedirects = 3

    public init() {}
}
