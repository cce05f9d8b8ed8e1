/// Where the coordinator finds a peer's secret. A key id is valid for one role only: a client (tenant) key
/// cannot register a worker and the worker join secret cannot submit jobs.
public protocol SecretLookup: Sendable {
    func secret(keyID: String, role: PeerRole) -> [UInt8]?
}

/// A fixed table of credentials.
public struct StaticSecrets: SecretLookup {
    public struct Key: Hashable, Sendable {
        public var keyID: String
        public var role: PeerRole
        public init(keyID: String, role: PeerRole) {
            self.keyID = keyID
            self.role = role
        }
    }

    public var secrets: [Key: [UInt8]]

    public init(_ secrets: [Key: [UInt8]]) { self.secrets = secrets }

    public func secret(keyID: String, role: PeerRole) -> [UInt8]? {
        secrets[Key(keyID: keyID, role: role)]
    }
}

/// Who the other end proved to be.
public struct AuthenticatedPeer: Sendable, Hashable {
    public var role: PeerRole
    public var keyID: String
    public var version: UInt8

    public init(role: PeerRole, keyID: String, version: UInt8) {
        self.role = role
        self.keyID = keyID
        self.version = version
    }
}
