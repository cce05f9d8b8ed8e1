import Foundation
import NIOCore
import PixelFlowProtocol
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension LiveCluster {
    /// Bad peers against a real coordinator process: each is closed with a typed error, and the coordinator
    /// keeps serving everyone else.
    @Suite("Hostile connections against a real coordinator", .serialized)
    struct HostileConnectionTests {
        let cluster: ClusterProcesses

        init() throws {
            cluster = try ClusterProcesses(extraConfig: ["limits": ["handshake_timeout_ms": 600]])
            try cluster.startCoordinator()
        }

        /// A well-behaved client still gets answers.
        func assertStillServing() throws {
            let good = try RawConnection(port: cluster.port)
            try good.handshake(keyID: "acme", secret: ClusterProcesses.tenantSecret)
            good.send(.frame(Frame(stream: 1, .statsRequest(StatsRequest()))))
            guard case .frame(let reply)? = try good.receive(), case .stats = reply.message else {
                Issue.record("the coordinator stopped answering")
                return
            }
        }

        static func goAwayCode(_ elements: [WireElement]) -> ErrorCode? {
            for case .frame(let frame) in elements {
                if case .goAway(let goAway) = frame.message { return goAway.code }
            }
            return nil
        }

        @Test("garbage bytes: the connection is closed, nothing else is affected")
        func garbage() throws {
            let raw = try RawConnection(port: cluster.port)
            raw.send(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            let result = try raw.drainUntilClosed()
            #expect(result.closed)
            #expect(result.elements.isEmpty, "a peer that never spoke PXFL gets no frames")
            try assertStillServing()
        }

        @Test("an oversized length prefix: GOAWAY(frame_too_large) from the header alone, then close")
        func oversizedLength() throws {
            let raw = try RawConnection(port: cluster.port)
            raw.send(.preface(.supported))
            guard case .preface? = try raw.receive(), case .frame? = try raw.receive() else {
                Issue.record("no preface and HELLO")
                return
            }
            raw.send([0xFF, 0xFF, 0xFF, 0xF0, FrameType.auth.rawValue, 0, 0, 0, 0, 0, 0, 0])
            let result = try raw.drainUntilClosed()
            #expect(result.closed)
            #expect(Self.goAwayCode(result.elements) == .frameTooLarge)
            try assertStillServing()
        }

        @Test("no handshake within the deadline: closed; with a preface but no AUTH: GOAWAY(handshake_timeout)")
        func silence() throws {
            let silent = try RawConnection(port: cluster.port)
            let started = ContinuousClock.now
            let result = try silent.drainUntilClosed()
            #expect(result.closed)
            #expect(ContinuousClock.now - started < .seconds(4))

            let halfway = try RawConnection(port: cluster.port)
            halfway.send(.preface(.supported))
            let rest = try halfway.drainUntilClosed()
            #expect(rest.closed)
            #expect(Self.goAwayCode(rest.elements) == .handshakeTimeout)
            try assertStillServing()
        }

        @Test("a wrong secret: GOAWAY(unauthorized); a client key cannot register a worker")
        func wrongSecret() throws {
            let raw = try RawConnection(port: cluster.port)
            #expect(throws: ProtocolError.self) { try raw.handshake(keyID: "acme", secret: "not-the-secret-at-all") }
            let asWorker = try RawConnection(port: cluster.port)
            let error = try #require(throws: ProtocolError.self) {
                try asWorker.handshake(keyID: "acme", secret: ClusterProcesses.tenantSecret, role: .worker)
            }
            #expect(error.code == .unauthorized)
            let joinAsClient = try RawConnection(port: cluster.port)
            #expect(throws: ProtocolError.self) {
                try joinAsClient.handshake(keyID: "worker", secret: ClusterProcesses.joinSecret)
            }
            try assertStillServing()
        }

        @Test("a client sending worker frames: GOAWAY(wrong_role)")
        func wrongRoleFrames() throws {
            let raw = try RawConnection(port: cluster.port)
            try raw.handshake(keyID: "acme", secret: ClusterProcesses.tenantSecret)
            raw.send(.frame(Frame(.register(Register(name: "sneaky", slots: 4, formats: [.jpeg], version: "1")))))
            let result = try raw.drainUntilClosed()
            #expect(result.closed)
            #expect(Self.goAwayCode(result.elements) == .wrongRole)
            #expect(try cluster.metricSync("pixelflow_workers") == 0)
            try assertStillServing()
        }

        @Test("a source chunk that does not decode: GOAWAY(compression_error) at the coordinator, never passed on")
        func corruptChunk() throws {
            let raw = try RawConnection(port: cluster.port)
            try raw.handshake(keyID: "acme", secret: ClusterProcesses.tenantSecret)
            let pipeline = ByteBuffer(string: #"[{"id":"t","action":"resize","width":10,"format":"png"}]"#)
            raw.send(.frame(Frame(stream: 1, .submit(Submit(mode: .async, sourceSize: 100, pipeline: pipeline)))))
            let garbage = ByteBuffer(bytes: [0x28, 0xB5, 0x2F, 0xFD] + [UInt8](repeating: 0x55, count: 40))
            raw.send(
                .frame(Frame(stream: 1, .chunk(Chunk(encoded: garbage, codec: .zstd, decodedSize: 100, isLast: true)))))
            let result = try raw.drainUntilClosed()
            #expect(result.closed)
            #expect(Self.goAwayCode(result.elements) == .compressionError)
            try assertStillServing()
        }

        @Test("SIGTERM on the coordinator: connected peers get GOAWAY(shutting_down), not a silent reset")
        func coordinatorShutdown() throws {
            let raw = try RawConnection(port: cluster.port)
            try raw.handshake(keyID: "acme", secret: ClusterProcesses.tenantSecret)
            cluster.signalCoordinator(SIGTERM)
            let result = try raw.drainUntilClosed()
            #expect(result.closed)
            #expect(Self.goAwayCode(result.elements) == .shuttingDown)
        }

        @Test("/healthz answers, /readyz is 503 with no worker")
        func health() async throws {
            #expect(try await cluster.http("/healthz") == "ok\n")
            #expect(try await cluster.http("/readyz") == "no worker has capacity\n")
        }
    }
}

extension ClusterProcesses {
    func metricSync(_ name: String) throws -> Double? {
        let data = try Data(contentsOf: URL(string: "http://\(httpAddress)/metrics")!)
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ").last!) }
    }
}
