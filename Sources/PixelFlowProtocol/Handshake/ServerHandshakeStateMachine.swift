/// The coordinator's side of the handshake (proto/PROTOCOL.md §3): preface, HELLO with a fresh nonce, AUTH
/// checked against the peer's secret, AUTH_OK. Pure: events in, actions out; the connection handler does the I/O
/// and arms the deadline timer.
public struct ServerHandshakeStateMachine: Sendable {
    public enum Action: Sendable, Hashable {
        /// Write these, keep going.
        case send([WireElement])
        /// The peer is authenticated: write `reply` (AUTH_OK), then hand the connection to the role's logic.
        case established(AuthenticatedPeer, reply: WireElement)
        /// Write these (possibly nothing), then close. The error is for the log; it names no secret.
        case fail(ProtocolError, send: [WireElement])
        /// Nothing to do.
        case none
    }

    private enum State: Sendable {
        case awaitingPreface
        case awaitingAuth(version: UInt8)
        case established
        case closed
    }

    private var state: State = .awaitingPreface
    private let nonce: [UInt8]
    private let serverName: String
    private let limits: ProtocolLimits
    private let heartbeatIntervalMilliseconds: UInt32
    private let leaseMilliseconds: UInt32
    private let secrets: any SecretLookup

    public init(
        secrets: any SecretLookup, limits: ProtocolLimits = .default, serverName: String = "pixelflow",
        heartbeatIntervalMilliseconds: UInt32 = 1_000, leaseMilliseconds: UInt32 = 10_000,
        nonce: [UInt8] = HandshakeProof.randomNonce()
    ) {
        self.secrets = secrets
        self.limits = limits
        self.serverName = serverName
        self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
        self.leaseMilliseconds = leaseMilliseconds
        self.nonce = nonce
    }

    public var isEstablished: Bool {
        if case .established = state { return true }
        return false
    }

    public mutating func receive(_ element: WireElement) -> Action {
        switch (state, element) {
        case (.awaitingPreface, .preface(let preface)):
            guard let version = Preface.supported.negotiate(with: preface) else {
                state = .closed
                let error = ProtocolError(
                    .unsupportedVersion,
                    "peer speaks \(preface.minVersion)...\(preface.maxVersion), coordinator speaks \(Preface.supported.minVersion)...\(Preface.supported.maxVersion)"
                )
                return .fail(error, send: [.preface(Preface(minVersion: 0, maxVersion: Preface.supported.maxVersion))])
            }
            state = .awaitingAuth(version: version)
            let hello = Hello(
                nonce: nonce, handshakeTimeoutMilliseconds: limits.handshakeTimeoutMilliseconds, server: serverName)
            return .send([.preface(.chosen(version)), .frame(Frame(.hello(hello)))])

        case (.awaitingAuth(let version), .frame(let frame)):
            guard case .auth(let auth) = frame.message else {
                return fail(ProtocolError.malformed("expected AUTH, got \(frame.message.frameType)"))
            }
            guard let secret = secrets.secret(keyID: auth.keyID, role: auth.role),
                HandshakeProof.matches(
                    auth.proof,
                    HandshakeProof.peer(
                        secret: secret, role: auth.role, keyID: auth.keyID, serverNonce: nonce,
                        clientNonce: auth.clientNonce))
            else {
                // The same answer whether the key id is unknown, registered for the other role, or the proof is wrong.
                return fail(
                    ProtocolError(.unauthorized, "authentication failed for key id '\(auth.keyID)' as \(auth.role)"))
            }
            state = .established
            let reply = AuthOK(
                serverProof: HandshakeProof.server(secret: secret, serverNonce: nonce, clientNonce: auth.clientNonce),
                limits: limits,
                heartbeatIntervalMilliseconds: auth.role == .worker ? heartbeatIntervalMilliseconds : 0,
                leaseMilliseconds: auth.role == .worker ? leaseMilliseconds : 0)
            return .established(
                AuthenticatedPeer(role: auth.role, keyID: auth.keyID, version: version),
                reply: .frame(Frame(.authOK(reply))))

        case (.awaitingPreface, .frame):
            return fail(ProtocolError.malformed("frame before the preface"))
        case (.awaitingAuth, .preface), (.established, .preface):
            return fail(ProtocolError.malformed("second preface"))
        case (.established, .frame(let frame)):
            if case .auth = frame.message { return fail(ProtocolError.malformed("AUTH after the handshake")) }
            return .none  // the role's own logic handles it
        case (.closed, _):
            return .none
        }
    }

    /// The handshake deadline passed.
    public mutating func deadlineExpired() -> Action {
        switch state {
        case .awaitingPreface, .awaitingAuth:
            return fail(
                ProtocolError(.handshakeTimeout, "no authentication within \(limits.handshakeTimeoutMilliseconds) ms"))
        case .established, .closed:
            return .none
        }
    }

    /// The decoder refused the peer's bytes. After a failure the connection is already closing: nothing more.
    public mutating func decodingFailed(_ error: ProtocolError) -> Action {
        if case .closed = state { return .none }
        return fail(error)
    }

    /// Refuses the peer without looking at what it sent (its address is throttled after failed logins).
    public mutating func refuse(_ error: ProtocolError) -> Action {
        if case .closed = state { return .none }
        return fail(error)
    }

    private mutating func fail(_ error: ProtocolError) -> Action {
        let prefaceSent: Bool
        switch state {
        case .awaitingPreface, .closed: prefaceSent = false
        case .awaitingAuth, .established: prefaceSent = true
        }
        state = .closed
        // GOAWAY is only understood by a peer that completed the preface exchange.
        return .fail(error, send: prefaceSent ? [.frame(Frame(.goAway(GoAway(error))))] : [])
    }
}
