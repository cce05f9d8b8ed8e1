import NIOCore
import Testing

@testable import PixelFlowProtocol

@Suite("Handshake state machines")
struct HandshakeTests {
    static let tenantSecret = Array("tenant-secret".utf8)
    static let joinSecret = Array("worker-join-secret".utf8)
    static let secrets = StaticSecrets([
        .init(keyID: "acme", role: .client): tenantSecret,
        .init(keyID: "workers", role: .worker): joinSecret,
    ])

    /// Runs both machines against each other until neither has anything to send.
    struct Outcome {
        var server: AuthenticatedPeer?
        var client: ClientHandshakeStateMachine.Session?
        var serverError: ProtocolError?
        var clientError: ProtocolError?
        var sentByServer: [WireElement] = []
        var sentByClient: [WireElement] = []
    }

    static func run(_ client: inout ClientHandshakeStateMachine, _ server: inout ServerHandshakeStateMachine) -> Outcome
    {
        var outcome = Outcome()
        var toServer: [WireElement] = [client.opening]
        var toClient: [WireElement] = []
        while !toServer.isEmpty || !toClient.isEmpty {
            for element in toServer {
                outcome.sentByClient.append(element)
                switch server.receive(element) {
                case .send(let elements): toClient += elements
                case .established(let peer, let reply):
                    outcome.server = peer
                    toClient.append(reply)
                case .fail(let error, let elements):
                    outcome.serverError = error
                    toClient += elements
                case .none: break
                }
            }
            toServer = []
            for element in toClient {
                outcome.sentByServer.append(element)
                switch client.receive(element) {
                case .send(let elements): toServer += elements
                case .established(let session): outcome.client = session
                case .fail(let error): outcome.clientError = error
                case .none: break
                }
            }
            toClient = []
        }
        return outcome
    }

    @Test("a client and a worker with the right secrets are authenticated both ways")
    func success() throws {
        for (role, keyID, secret) in [
            (PeerRole.client, "acme", Self.tenantSecret), (.worker, "workers", Self.joinSecret),
        ] {
            var client = ClientHandshakeStateMachine(role: role, keyID: keyID, secret: secret)
            var server = ServerHandshakeStateMachine(secrets: Self.secrets, leaseMilliseconds: 7_000)
            let outcome = Self.run(&client, &server)
            #expect(outcome.server == AuthenticatedPeer(role: role, keyID: keyID, version: 2))
            #expect(outcome.client?.version == 2)
            #expect(outcome.client?.limits == .default)
            #expect(outcome.client?.leaseMilliseconds == (role == .worker ? 7_000 : 0))
            #expect(outcome.serverError == nil && outcome.clientError == nil)
            #expect(server.isEstablished)
        }
    }

    @Test("the secret never crosses the wire")
    func secretNotOnWire() throws {
        var client = ClientHandshakeStateMachine(role: .client, keyID: "acme", secret: Self.tenantSecret)
        var server = ServerHandshakeStateMachine(secrets: Self.secrets)
        let outcome = Self.run(&client, &server)
        var wire = ByteBuffer()
        for element in outcome.sentByClient + outcome.sentByServer { FrameEncoder().encode(data: element, out: &wire) }
        let bytes = Array(wire.readableBytesView)
        #expect(!bytes.isEmpty)
        #expect(bytes.firstRange(of: Self.tenantSecret) == nil)
    }

    @Test("a wrong secret is refused with GOAWAY(unauthorized)")
    func wrongSecret() throws {
        var client = ClientHandshakeStateMachine(role: .client, keyID: "acme", secret: Array("guess".utf8))
        var server = ServerHandshakeStateMachine(secrets: Self.secrets)
        let outcome = Self.run(&client, &server)
        #expect(outcome.serverError?.code == .unauthorized)
        #expect(outcome.clientError?.code == .unauthorized)
        #expect(outcome.server == nil && outcome.client == nil)
        #expect(
            outcome.sentByServer.last
                == .frame(
                    Frame(
                        .goAway(
                            GoAway(code: .unauthorized, message: "authentication failed for key id 'acme' as client"))))
        )
    }

    @Test("an unknown key id gets the same answer as a wrong secret")
    func unknownKey() {
        var client = ClientHandshakeStateMachine(role: .client, keyID: "nobody", secret: Self.tenantSecret)
        var server = ServerHandshakeStateMachine(secrets: Self.secrets)
        #expect(Self.run(&client, &server).serverError?.code == .unauthorized)
    }

    @Test("a client key cannot register a worker, and the join secret cannot act as a client")
    func wrongRole() {
        var asWorker = ClientHandshakeStateMachine(role: .worker, keyID: "acme", secret: Self.tenantSecret)
        var server = ServerHandshakeStateMachine(secrets: Self.secrets)
        #expect(Self.run(&asWorker, &server).serverError?.code == .unauthorized)

        var asClient = ClientHandshakeStateMachine(role: .client, keyID: "workers", secret: Self.joinSecret)
        var otherServer = ServerHandshakeStateMachine(secrets: Self.secrets)
        #expect(Self.run(&asClient, &otherServer).serverError?.code == .unauthorized)
    }

    @Test("an AUTH replayed on another connection is refused: it answers the old nonce")
    func replayedAuth() throws {
        var client = ClientHandshakeStateMachine(role: .client, keyID: "acme", secret: Self.tenantSecret)
        var first = ServerHandshakeStateMachine(secrets: Self.secrets)
        let recorded = Self.run(&client, &first)
        let auth = try #require(
            recorded.sentByClient.first { if case .frame(let f) = $0, case .auth = f.message { true } else { false } })

        var second = ServerHandshakeStateMachine(secrets: Self.secrets)
        _ = second.receive(.preface(.supported))
        guard case .fail(let error, _) = second.receive(auth) else {
            Issue.record("replayed AUTH was accepted")
            return
        }
        #expect(error.code == .unauthorized)
    }

    @Test("a second AUTH on an authenticated connection is a protocol error")
    func authTwice() throws {
        var client = ClientHandshakeStateMachine(role: .client, keyID: "acme", secret: Self.tenantSecret)
        var server = ServerHandshakeStateMachine(secrets: Self.secrets)
        let recorded = Self.run(&client, &server)
        let auth = try #require(recorded.sentByClient.last)
        guard case .fail(let error, _) = server.receive(auth) else {
            Issue.record("second AUTH was accepted")
            return
        }
        #expect(error.code == .protocolError)
    }

    @Test("no AUTH before the deadline closes the connection with handshake_timeout")
    func timeout() {
        var server = ServerHandshakeStateMachine(secrets: Self.secrets)
        _ = server.receive(.preface(.supported))
        guard case .fail(let error, let send) = server.deadlineExpired() else {
            Issue.record("deadline did not fail the handshake")
            return
        }
        #expect(error.code == .handshakeTimeout)
        #expect(send.count == 1)

        var established = ServerHandshakeStateMachine(secrets: Self.secrets)
        var client = ClientHandshakeStateMachine(role: .client, keyID: "acme", secret: Self.tenantSecret)
        _ = Self.run(&client, &established)
        #expect(established.deadlineExpired() == .none)
    }

    @Test("the highest common version is chosen: v1 for a v1-only peer, v2 for a peer that speaks both")
    func versionChoice() {
        for (peer, chosen) in [(Preface(minVersion: 1, maxVersion: 1), UInt8(1)), (Preface.supported, 2)] {
            var server = ServerHandshakeStateMachine(secrets: Self.secrets)
            guard case .send(let elements) = server.receive(.preface(peer)) else {
                Issue.record("\(peer) was refused")
                continue
            }
            #expect(elements.first == .preface(.chosen(chosen)))
        }
    }

    @Test("a peer with no common version gets the refusal preface")
    func versionMismatch() {
        var server = ServerHandshakeStateMachine(secrets: Self.secrets)
        let action = server.receive(.preface(Preface(minVersion: 3, maxVersion: 5)))
        guard case .fail(let error, let send) = action else {
            Issue.record("version 3...5 was accepted")
            return
        }
        #expect(error.code == .unsupportedVersion)
        #expect(send == [.preface(Preface(minVersion: 0, maxVersion: 2))])

        var client = ClientHandshakeStateMachine(role: .client, keyID: "acme", secret: Self.tenantSecret)
        guard case .fail(let clientError) = client.receive(.preface(Preface(minVersion: 0, maxVersion: 1))) else {
            Issue.record("client accepted a refusal")
            return
        }
        #expect(clientError.code == .unsupportedVersion)
    }

    @Test("a client refuses a coordinator that cannot prove it knows the secret")
    func impostorCoordinator() {
        var client = ClientHandshakeStateMachine(role: .client, keyID: "acme", secret: Self.tenantSecret)
        var impostor = ServerHandshakeStateMachine(
            secrets: StaticSecrets([
                .init(keyID: "acme", role: .client): Self.tenantSecret
            ]))
        // The impostor relays a genuine HELLO/AUTH exchange but forges AUTH_OK.
        _ = client.receive(.preface(.chosen(1)))
        guard case .send(let sent) = impostor.receive(.preface(.supported)), case .frame(let hello) = sent.last else {
            Issue.record("no HELLO")
            return
        }
        _ = client.receive(.frame(hello))
        let forged = AuthOK(
            serverProof: [UInt8](repeating: 7, count: 32), limits: .default, heartbeatIntervalMilliseconds: 0,
            leaseMilliseconds: 0)
        guard case .fail(let error) = client.receive(.frame(Frame(.authOK(forged)))) else {
            Issue.record("forged AUTH_OK accepted")
            return
        }
        #expect(error.code == .unauthorized)
    }

    @Test("frames before the preface, or anything but AUTH first, are protocol errors")
    func outOfOrder() {
        var server = ServerHandshakeStateMachine(secrets: Self.secrets)
        guard case .fail(let early, let send) = server.receive(.frame(Frame(.ping(Ping(opaque: 1))))) else {
            Issue.record("frame before preface accepted")
            return
        }
        #expect(early.code == .protocolError)
        #expect(send.isEmpty)

        var other = ServerHandshakeStateMachine(secrets: Self.secrets)
        _ = other.receive(.preface(.supported))
        guard case .fail(let notAuth, _) = other.receive(.frame(Frame(stream: 1, .statsRequest(StatsRequest())))) else {
            Issue.record("request before AUTH accepted")
            return
        }
        #expect(notAuth.code == .protocolError)
    }
}
