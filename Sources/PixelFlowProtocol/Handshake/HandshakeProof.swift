import Crypto

/// The HMAC-SHA256 proofs of the handshake (proto/PROTOCOL.md §3). The secret never crosses the wire; the
/// proofs bind the role, the key id and both nonces, so a proof from one connection is useless on another.
public enum HandshakeProof {
    public static let size = 32
    static let peerLabel = Array("PXFL-v1-auth".utf8)
    static let serverLabel = Array("PXFL-v1-server".utf8)

    /// `HMAC-SHA256(secret, "PXFL-v1-auth" · role u8 · len(key_id) u16 · key_id · server_nonce · client_nonce)`.
    public static func peer(
        secret: [UInt8], role: PeerRole, keyID: String, serverNonce: [UInt8], clientNonce: [UInt8]
    ) -> [UInt8] {
        let keyBytes = Array(keyID.utf8)
        var message = peerLabel
        message.append(role.rawValue)
        message.append(UInt8(truncatingIfNeeded: keyBytes.count >> 8))
        message.append(UInt8(truncatingIfNeeded: keyBytes.count))
        message += keyBytes + serverNonce + clientNonce
        return mac(secret: secret, message)
    }

    /// `HMAC-SHA256(secret, "PXFL-v1-server" · server_nonce · client_nonce)`: the coordinator proves it knows
    /// the secret too, so a client cannot be fooled by an impostor coordinator.
    public static func server(secret: [UInt8], serverNonce: [UInt8], clientNonce: [UInt8]) -> [UInt8] {
        mac(secret: secret, serverLabel + serverNonce + clientNonce)
    }

    /// Compares in constant time.
    public static func matches(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func mac(secret: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
    }

    /// 32 bytes from the system's secure generator.
    public static func randomNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<Hello.nonceSize).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
