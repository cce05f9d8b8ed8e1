import NIOCore

/// AUTH (client or worker → coordinator, stream 0): who the peer is and the proof that it holds the secret.
/// `role u8 · key_id str · client_nonce [32] · proof [32]`; the proof is defined in `HandshakeProof`.
public struct Auth: WirePayload {
    public static let frameType = FrameType.auth

    public var role: PeerRole
    public var keyID: String
    public var clientNonce: [UInt8]
    public var proof: [UInt8]

    public init(role: PeerRole, keyID: String, clientNonce: [UInt8], proof: [UInt8]) {
        self.role = role
        self.keyID = keyID
        self.clientNonce = clientNonce
        self.proof = proof
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        let rawRole = try buffer.readField(UInt8.self, "role")
        guard let role = PeerRole(rawValue: rawRole), role != .coordinator else {
            throw ProtocolError(.wrongRole, "role \(rawRole) is neither client (1) nor worker (2)")
        }
        self.role = role
        keyID = try buffer.readWireString("key_id")
        clientNonce = try buffer.readFixedBytes(Hello.nonceSize, "client_nonce")
        proof = try buffer.readFixedBytes(HandshakeProof.size, "proof")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(role.rawValue)
        buffer.writeWireString(keyID)
        buffer.writeBytes(clientNonce)
        buffer.writeBytes(proof)
    }
}
