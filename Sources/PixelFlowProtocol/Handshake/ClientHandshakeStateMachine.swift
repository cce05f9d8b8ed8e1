/// The client's or worker's side of the handshake: send the preface, answer HELLO with AUTH, verify the
/// coordinator's proof in AUTH_OK. Pure: events in, actions out.
public struct ClientHandshakeStateMachine: Sendable {
    /// What the handshake settled.
    public struct Session: Sendable, Hashable {
        public var version: UInt8
        public var server: String
        public var limits: ProtocolLimits
        public var heartbeatIntervalMilliseconds: UInt32
        public var leaseMilliseconds: UInt32
    }

    public enum Action: Sendable, Hashable {
        case send([WireElement])
        case established(Session)
        /// Close; the handshake failed for this reason.
        case fail(ProtocolError)
        case none
    }

    private enum State: Sendable {
        case awaitingPreface
        case awaitingHello(version: UInt8)
        case awaitingAuthOK(version: UInt8, server: String, serverNonce: [UInt8])
        case established
        case closed
    }

    private var state: State = .awaitingPreface
    private let role: PeerRole
    private let keyID: String
    private let secret: [UInt8]
    private let clientNonce: [UInt8]

    public init(role: PeerRole, keyID: String, secret: [UInt8], clientNonce: [UInt8] = HandshakeProof.randomNonce()) {
        self.role = role
        self.keyID = keyID
        self.secret = secret
        self.clientNonce = clientNonce
    }

    /// What to write as soon as the connection opens.
    public var opening: WireElement { .preface(.supported) }

    public mutating func receive(_ element: WireElement) -> Action {
        switch (state, element) {
        case (.awaitingPreface, .preface(let preface)):
            guard preface.minVersion == preface.maxVersion, let version = Preface.supported.negotiate(with: preface)
            else {
                return fail(
                    ProtocolError(
                        .unsupportedVersion,
                        "coordinator speaks up to v\(preface.maxVersion), this client \(Preface.supported.minVersion)...\(Preface.supported.maxVersion)"
                    ))
            }
            state = .awaitingHello(version: version)
            return .none

        case (.awaitingHello(let version), .frame(let frame)):
            if case .goAway(let goAway) = frame.message { return fail(ProtocolError(goAway.code, goAway.message)) }
            guard case .hello(let hello) = frame.message else {
                return fail(ProtocolError.malformed("expected HELLO, got \(frame.message.frameType)"))
            }
            state = .awaitingAuthOK(version: version, server: hello.server, serverNonce: hello.nonce)
            let proof = HandshakeProof.peer(
                secret: secret, role: role, keyID: keyID, serverNonce: hello.nonce, clientNonce: clientNonce)
            return .send([.frame(Frame(.auth(Auth(role: role, keyID: keyID, clientNonce: clientNonce, proof: proof))))])

        case (.awaitingAuthOK(let version, let server, let serverNonce), .frame(let frame)):
            if case .goAway(let goAway) = frame.message { return fail(ProtocolError(goAway.code, goAway.message)) }
            guard case .authOK(let ok) = frame.message else {
                return fail(ProtocolError.malformed("expected AUTH_OK, got \(frame.message.frameType)"))
            }
            let expected = HandshakeProof.server(secret: secret, serverNonce: serverNonce, clientNonce: clientNonce)
            guard HandshakeProof.matches(ok.serverProof, expected) else {
                return fail(ProtocolError(.unauthorized, "the coordinator could not prove it holds this key's secret"))
            }
            state = .established
            return .established(
                Session(
                    version: version, server: server, limits: ok.limits,
                    heartbeatIntervalMilliseconds: ok.heartbeatIntervalMilliseconds,
                    leaseMilliseconds: ok.leaseMilliseconds))

        case (.awaitingPreface, .frame):
            return fail(ProtocolError.malformed("frame before the coordinator's preface"))
        case (.awaitingHello, .preface), (.awaitingAuthOK, .preface), (.established, .preface):
            return fail(ProtocolError.malformed("second preface from the coordinator"))
        case (.established, .frame), (.closed, _):
            return .none
        }
    }

    private mutating func fail(_ error: ProtocolError) -> Action {
        state = .closed
        return .fail(error)
    }
}
