import Foundation
import NIOCore
import PixelFlowClient
import PixelFlowProtocol
import Testing

extension LiveCluster {
    /// One misbehaving client or peer against a real coordinator process: it is slowed, timed out or refused,
    /// and everyone else keeps being served.
    @Suite("Coordinator resilience against a real coordinator process", .serialized)
    struct CoordinatorResilienceTests {
        static let pipeline = ByteBuffer(
            string:
                #"[{"id":"a","action":"resize","width":16,"format":"jpeg"},{"id":"b","action":"resize","width":32,"format":"jpeg"}]"#
        )

        static func submit(
            _ stream: UInt32, mode: Submit.Mode = .stream, size: UInt64, key: String = "", webhook: String = ""
        ) -> WireElement {
            .frame(
                Frame(
                    stream: stream,
                    .submit(
                        Submit(
                            mode: mode, idempotencyKey: key, webhookURL: webhook, sourceSize: size, pipeline: pipeline))
                ))
        }

        static func chunk(_ stream: UInt32, _ bytes: [UInt8], last: Bool) -> WireElement {
            .frame(Frame(stream: stream, .chunk(Chunk(raw: ByteBuffer(bytes: bytes), isLast: last))))
        }

        static func client(
            _ cluster: ClusterProcesses, keyID: String = "acme", timeout: Duration = .seconds(5)
        ) throws -> RawConnection {
            let raw = try RawConnection(port: cluster.port, timeout: timeout)
            try raw.handshake(
                keyID: keyID, secret: keyID == "acme" ? ClusterProcesses.tenantSecret : ClusterProcesses.otherSecret)
            return raw
        }

        static func message(on raw: RawConnection, stream: UInt32) throws -> Message? {
            try raw.receive(until: { $0.streamID == stream })?.message
        }

        @Test(
            "a client that never reads 200 large results: coordinator memory stays bounded, another tenant keeps its throughput, the reader is dropped as slow_reader"
        )
        func nonReadingClient() async throws {
            let cluster = try ClusterProcesses(extraConfig: [
                "limits": ["max_outbound_bytes": 8 << 20, "write_stall_timeout_ms": 4000]
            ])
            try cluster.startCoordinator()
            try cluster.startWorker("w", slots: 4, extra: ["--null-engine", "--null-variant-bytes", "\(4 << 20)"])
            try await cluster.waitForWorkers(1)
            let baseline = cluster.coordinatorRSS()

            let stalled = try RawConnection(port: cluster.port)
            stalled.setReceiveBuffer(16 * 1024)
            try stalled.handshake(keyID: "acme", secret: ClusterProcesses.tenantSecret)
            for index in 0..<200 {
                let stream = UInt32(2 * index + 1)
                stalled.send(Self.submit(stream, size: 1))
                stalled.send(Self.chunk(stream, [0xFF], last: true))
            }
            // Meanwhile another tenant gets 20 jobs through, each 8 MiB of results.
            let started = ContinuousClock.now
            let completed = try await PixelFlowClient.withConnection(
                to: "127.0.0.1", port: cluster.port, keyID: "other", secret: ClusterProcesses.otherSecret
            ) { client in
                var done = 0
                for _ in 0..<20 {
                    for try await event in client.process(source: [0xFF], pipeline: String(buffer: Self.pipeline)) {
                        if case .completed = event { done += 1 }
                    }
                }
                return done
            }
            #expect(completed == 20)
            #expect(ContinuousClock.now - started < .seconds(30))
            var peak = cluster.coordinatorRSS()
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline, !cluster.log("coordinator").contains("slow_reader") {
                peak = max(peak, cluster.coordinatorRSS())
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(peak - baseline < 256 << 20, "coordinator grew by \((peak - baseline) >> 20) MiB")
            #expect(cluster.log("coordinator").contains("slow_reader"), "the non-reading client was not disconnected")
            #expect(cluster.isCoordinatorRunning)
        }

        @Test("100,000 connections opened and closed: the coordinator's memory comes back within 10 MiB")
        func connectionChurn() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator()
            let port = cluster.port
            /// Opens and resets `count` connections from 4 threads; returns how many connected.
            func churn(_ count: Int) async -> Int {
                await withTaskGroup(of: Int.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            var connected = 0
                            for _ in 0..<(count / 4) {
                                guard let raw = try? RawConnection(port: port) else { continue }
                                raw.reset()
                                connected += 1
                            }
                            return connected
                        }
                    }
                    return await group.reduce(0, +)
                }
            }
            let warmUp = await churn(5_000)  // allocator arenas and tables at their working size
            try await Task.sleep(for: .seconds(1))
            let before = cluster.coordinatorRSS()
            let connected = await churn(100_000)
            try await Task.sleep(for: .seconds(2))
            let after = cluster.coordinatorRSS()
            #expect(connected >= 99_000, "only \(connected) of 100,000 connections were made")
            #expect(
                after - before < 10 << 20, "RSS grew by \((after - before) >> 10) KiB over \(connected) connections")
            // Connections reset before the coordinator accepted them are not counted; nearly all are.
            let accepted = try cluster.metricSync("pixelflow_connections_total") ?? 0
            #expect(
                accepted >= 0.9 * Double(warmUp + connected) && accepted <= Double(warmUp + connected),
                "\(accepted) accepted")
        }

        @Test(
            "after login: an idle connection and a half-sent frame time out with GOAWAY(idle_timeout); a pinging one stays"
        )
        func timeoutsAfterLogin() async throws {
            let cluster = try ClusterProcesses(extraConfig: [
                "limits": ["idle_timeout_ms": 2000, "frame_timeout_ms": 1000]
            ])
            try cluster.startCoordinator()
            let idle = try Self.client(cluster, timeout: .seconds(8))
            let half = try Self.client(cluster, timeout: .seconds(8))
            let pinging = try Self.client(cluster)
            half.send(Array([0, 0, 0, 40, FrameType.statusRequest.rawValue, 0, 0, 0, 0, 0, 0, 1, 0, 0]))
            let started = ContinuousClock.now
            async let idleEnd = Task.detached { (try idle.drainUntilClosed(), ContinuousClock.now) }.value
            async let halfEnd = Task.detached { (try half.drainUntilClosed(), ContinuousClock.now) }.value
            for _ in 0..<10 {
                pinging.send(.frame(Frame(.ping(Ping(opaque: 1)))))
                try await Task.sleep(for: .milliseconds(500))
            }
            let (idleResult, idleClosed) = try await idleEnd
            let (halfResult, halfClosed) = try await halfEnd
            #expect(idleResult.closed && HostileConnectionTests.goAwayCode(idleResult.elements) == .idleTimeout)
            #expect(halfResult.closed && HostileConnectionTests.goAwayCode(halfResult.elements) == .idleTimeout)
            #expect(halfClosed - started < .milliseconds(2600), "the half frame was held \(halfClosed - started)")
            #expect(idleClosed - started >= .milliseconds(1900) && idleClosed - started < .milliseconds(4000))
            pinging.send(.frame(Frame(stream: 1, .statsRequest(StatsRequest()))))
            guard case .stats? = try Self.message(on: pinging, stream: 1) else {
                Issue.record("a connection that PINGs was closed")
                return
            }
        }

        @Test(
            "held sources: one tenant's stalled 64 MiB uploads cannot lock others out; a trickle and an idle stream upload get REJECTED(timeout)"
        )
        func heldSourceBudget() async throws {
            let cluster = try ClusterProcesses(extraConfig: [
                "queue": ["max_source_bytes": 1 << 30],
                "limits": ["upload_idle_timeout_ms": 2000, "min_upload_bytes_per_second": 1 << 20],
            ])
            try cluster.startCoordinator()
            try cluster.startWorker("w", slots: 1, extra: ["--null-engine"])
            let squatter = try Self.client(cluster)
            var admittedStreams: [UInt32] = []
            for index in 0..<16 {
                let stream = UInt32(2 * index + 1)
                squatter.send(Self.submit(stream, mode: .async, size: 64 << 20))
                squatter.send(Self.chunk(stream, [1, 2, 3], last: false))
                admittedStreams.append(stream)
            }
            let other = try Self.client(cluster, keyID: "other")
            other.send(Self.submit(1, mode: .async, size: 3))
            other.send(Self.chunk(1, [1, 2, 3], last: true))
            guard case .accepted? = try Self.message(on: other, stream: 1) else {
                Issue.record("another tenant was locked out by one tenant's stalled uploads")
                return
            }
            // Four 64 MiB uploads fill the tenant's quarter of the budget; the rest were refused at once.
            var rejections: [ErrorCode] = []
            while rejections.count < admittedStreams.count,
                let frame = try squatter.receive(until: { if case .rejected = $0.message { true } else { false } })
            {
                if case .rejected(let rejected) = frame.message { rejections.append(rejected.code) }
            }
            #expect(rejections.filter { $0 == .queueFull }.count == 12)
            #expect(rejections.filter { $0 == .timeout }.count == 4, "the stalled uploads time out: \(rejections)")

            // A trickle: 1 MiB declared at 1 MiB/s minimum must be in within ~3 s; one byte every 400 ms is not.
            let trickle = try Self.client(cluster, timeout: .seconds(10))
            trickle.send(Self.submit(1, mode: .async, size: 1 << 20))
            let started = ContinuousClock.now
            let answer = Task.detached { try Self.message(on: trickle, stream: 1) }
            while ContinuousClock.now - started < .seconds(6) {
                trickle.send(Self.chunk(1, [7], last: false))
                try await Task.sleep(for: .milliseconds(400))
            }
            guard case .rejected(let rejected)? = try await answer.value else {
                Issue.record("a trickling upload was not refused")
                return
            }
            #expect(rejected.code == .timeout && rejected.message.contains("minimum rate"))

            let stalledStream = try Self.client(cluster, timeout: .seconds(10))
            stalledStream.send(Self.submit(1, mode: .stream, size: 100))
            guard case .rejected(let idle)? = try Self.message(on: stalledStream, stream: 1) else {
                Issue.record("an idle stream-mode upload did not get REJECTED")
                return
            }
            #expect(idle.code == .timeout)
        }

        @Test("a protocol error mid async upload abandons the job: the queue cap and the idempotency key are freed")
        func protocolErrorMidUpload() throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator()
            let first = try Self.client(cluster)
            first.send(Self.submit(1, mode: .async, size: 100, key: "order-1"))
            first.send(Self.chunk(1, [UInt8](repeating: 1, count: 10), last: false))
            first.send(Self.chunk(1, [UInt8](repeating: 1, count: 200), last: true))  // beyond the declared 100 bytes
            let result = try first.drainUntilClosed()
            #expect(HostileConnectionTests.goAwayCode(result.elements) == .protocolError)

            let again = try Self.client(cluster)
            again.send(.frame(Frame(stream: 1, .statsRequest(StatsRequest()))))
            guard case .stats(let stats)? = try Self.message(on: again, stream: 1) else {
                throw ClusterProcesses.Failure("no STATS")
            }
            #expect(stats.total.queued == 0, "the abandoned job still holds a place in the queue")
            again.send(Self.submit(3, mode: .async, size: 3, key: "order-1"))
            again.send(Self.chunk(3, [1, 2, 3], last: true))
            guard case .accepted(let accepted)? = try Self.message(on: again, stream: 3) else {
                Issue.record("the idempotency key of the abandoned job was not freed")
                return
            }
            #expect(!accepted.duplicate)
        }

        @Test(
            "resubmissions: the same source is the first job; another source under the key is idempotency_conflict; a bad webhook_url is invalid_request"
        )
        func idempotencyAndWebhook() throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator()
            let raw = try Self.client(cluster)
            raw.send(Self.submit(1, mode: .async, size: 3, key: "k"))
            raw.send(Self.chunk(1, [1, 2, 3], last: true))
            guard case .accepted(let first)? = try Self.message(on: raw, stream: 1) else {
                throw ClusterProcesses.Failure("not accepted")
            }
            raw.send(Self.submit(3, mode: .async, size: 3, key: "k"))
            raw.send(Self.chunk(3, [1, 2, 3], last: true))
            guard case .accepted(let same)? = try Self.message(on: raw, stream: 3) else {
                throw ClusterProcesses.Failure("resubmission refused")
            }
            #expect(same.duplicate && same.jobID == first.jobID)
            raw.send(Self.submit(5, mode: .async, size: 3, key: "k"))
            raw.send(Self.chunk(5, [9, 9, 9], last: true))
            guard case .rejected(let conflict)? = try Self.message(on: raw, stream: 5) else {
                Issue.record("a different source under the same key got the first job")
                return
            }
            #expect(conflict.code == .idempotencyConflict)
            raw.send(Self.submit(7, mode: .async, size: 3, webhook: "not a url"))
            raw.send(Self.chunk(7, [1, 2, 3], last: true))
            guard case .rejected(let invalid)? = try Self.message(on: raw, stream: 7) else {
                Issue.record("webhook_url 'not a url' was accepted")
                return
            }
            #expect(invalid.code == .invalidRequest)
        }

        @Test(
            "failed logins from one address are throttled (even with the right secret) and counted once; a tenant sees only its own STATS and no worker addresses"
        )
        func authAndVisibility() async throws {
            let cluster = try ClusterProcesses(extraConfig: [
                "auth": ["failures_before_backoff": 3, "backoff_ms": 1500]
            ])
            try cluster.startCoordinator()
            try cluster.startWorker("w", slots: 1, extra: ["--null-engine"])
            try await cluster.waitForWorkers(1)
            for _ in 0..<3 {
                let raw = try RawConnection(port: cluster.port)
                let error = try #require(throws: ProtocolError.self) {
                    try raw.handshake(keyID: "acme", secret: "wrong-secret-0123456789")
                }
                #expect(error.code == .unauthorized)
            }
            let throttled = try RawConnection(port: cluster.port)
            let refusal = try #require(throws: ProtocolError.self) {
                try throttled.handshake(keyID: "acme", secret: ClusterProcesses.tenantSecret)
            }
            #expect(refusal.code == .loginThrottled)
            #expect(try cluster.metricSync("pixelflow_handshake_failures_total") == 4)
            try await Task.sleep(for: .milliseconds(1600))

            let other = try Self.client(cluster, keyID: "other")
            other.send(.frame(Frame(stream: 1, .workersRequest(WorkersRequest()))))
            guard case .workers(let list)? = try Self.message(on: other, stream: 1) else {
                throw ClusterProcesses.Failure("no WORKERS")
            }
            #expect(list.workers.count == 1 && list.workers[0].address.isEmpty)
            let admin = try Self.client(cluster)
            admin.send(Self.submit(1, mode: .async, size: 1))
            admin.send(Self.chunk(1, [1], last: true))
            _ = try Self.message(on: admin, stream: 1)
            admin.send(.frame(Frame(stream: 3, .workersRequest(WorkersRequest()))))
            guard case .workers(let full)? = try Self.message(on: admin, stream: 3) else {
                throw ClusterProcesses.Failure("no WORKERS")
            }
            #expect(full.workers[0].address.hasPrefix("127.0.0.1:"))
            other.send(.frame(Frame(stream: 3, .statsRequest(StatsRequest()))))
            guard case .stats(let stats)? = try Self.message(on: other, stream: 3) else {
                throw ClusterProcesses.Failure("no STATS")
            }
            #expect(stats.total.admitted == 0, "a tenant saw the cluster's totals")
            #expect(stats.tenants.map(\.name) == ["other"])
        }

        @Test(
            "the client library: keepalive PINGs hold an idle connection past the idle timeout; without reconnecting, a killed coordinator fails its waiting request at once"
        )
        func clientKeepaliveAndLoss() async throws {
            let cluster = try ClusterProcesses(extraConfig: ["limits": ["idle_timeout_ms": 1500]])
            try cluster.startCoordinator()
            var configuration = PixelFlowClient.Configuration()
            configuration.keepaliveInterval = .milliseconds(400)
            configuration.reconnect = nil
            let client = try await PixelFlowClient.connect(
                to: "127.0.0.1", port: cluster.port, keyID: "acme", secret: ClusterProcesses.tenantSecret,
                configuration: configuration)
            try await Task.sleep(for: .seconds(3))
            _ = try await client.stats()  // still connected after twice the idle timeout
            // A job that waits for a worker that never comes; the coordinator dies under it.
            let job = try await client.submit(source: [1, 2, 3], pipeline: String(buffer: Self.pipeline))
            let waiting = Task { try await client.wait(job) }
            try await Task.sleep(for: .milliseconds(200))
            let killed = ContinuousClock.now
            cluster.signalCoordinator(SIGKILL)
            let error = await #expect(throws: PixelFlowClientError.self) { try await waiting.value }
            #expect(error?.code == .connectionLost)
            #expect(
                ContinuousClock.now - killed < .seconds(2), "the loss took \(ContinuousClock.now - killed) to surface")
            await client.close()
        }

        @Test(
            "logs: --log-format json --log-level debug gives one JSON object a line, with a line per job assigned and ended"
        )
        func structuredLogs() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator(extra: ["--log-format", "json", "--log-level", "debug"])
            try cluster.startWorker("w", slots: 1, extra: ["--null-engine"])
            try await cluster.waitForWorkers(1)
            let raw = try Self.client(cluster)
            raw.send(Self.submit(1, size: 1))
            raw.send(Self.chunk(1, [1], last: true))
            _ = try raw.receive(until: { if case .jobDone = $0.message { true } else { false } })
            // Every line but the announcement on stdout.
            let lines = cluster.log("coordinator").split(separator: "\n").filter { !$0.contains("listening on") }
            let objects = lines.compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
            }
            #expect(objects.count == lines.count, "every log line is a JSON object of strings")
            #expect(objects.contains { $0["msg"] == "worker registered" && $0["name"] == "w" && $0["level"] == "info" })
            #expect(
                objects.contains {
                    $0["msg"] == "job assigned" && $0["job_id"] == "1" && $0["attempt"] == "1" && $0["worker"] != nil
                })
            #expect(
                objects.contains { $0["msg"] == "job ended" && $0["job_id"] == "1" && $0["outcome"] == "succeeded" })
        }

        @Test("SIGTERM with a job running: its stream finishes with JOB_DONE before the coordinator exits")
        func gracefulShutdown() async throws {
            // A grace long enough for a slow AVIF encode on a machine busy with the rest of the suite.
            let cluster = try ClusterProcesses(extraConfig: ["shutdown": ["grace_ms": 120_000]])
            try cluster.startCoordinator()
            try cluster.startWorker("w", slots: 1)
            try await cluster.waitForWorkers(1)
            let source = TestImages.jpeg(width: 2000, height: 1500)
            let slow = #"[{"id":"a","action":"resize","width":1600,"format":"avif","quality":60,"effort":4}]"#
            var configuration = PixelFlowClient.Configuration()
            configuration.reconnect = nil  // the job must finish on this connection, not be resubmitted elsewhere
            let outcome = try await PixelFlowClient.withConnection(
                to: "127.0.0.1", port: cluster.port, keyID: "acme", secret: ClusterProcesses.tenantSecret,
                configuration: configuration
            ) { client in
                var completed = false
                for try await event in client.process(source: source, pipeline: slow) {
                    switch event {
                    case .accepted: cluster.signalCoordinator(SIGTERM)
                    case .variant: break
                    case .completed: completed = true
                    }
                }
                return completed
            }
            #expect(outcome, "the running job did not finish after SIGTERM")
        }
    }
}
