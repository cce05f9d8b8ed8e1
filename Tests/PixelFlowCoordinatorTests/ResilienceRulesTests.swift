import Foundation
import NIOCore
import PixelFlowProtocol
import Testing

@testable import PixelFlowCoordinator

/// The pure rules behind the coordinator's resilience: config ranges, bucket arithmetic, login throttling,
/// backpressure, budgets, parking, webhook URLs.
@Suite("Resilience rules")
struct ResilienceRulesTests {
    let now = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func config(_ tenant: [String: Any], extra: [String: Any] = [:]) throws -> CoordinatorConfig {
        var root: [String: Any] = ["tenants": [["key_id": "t", "secret": "0123456789abcdef"].merging(tenant) { $1 }]]
        root.merge(extra) { $1 }
        return try CoordinatorConfig(json: try JSONSerialization.data(withJSONObject: root), environment: [:])
    }

    @Test("tls.cert and tls.key go together, tls.client_ca needs them; a worker reads only join.* from the file")
    func tlsKeys() throws {
        let both = try Self.config([:], extra: ["tls": ["cert": "c.pem", "key": "k.pem", "client_ca": "ca.pem"]])
        #expect(both.tls == TLSFiles(certificate: "c.pem", key: "k.pem", clientCA: "ca.pem"))
        #expect(try Self.config([:]).tls == nil)
        for partial in [["cert": "c.pem"], ["key": "k.pem"], ["client_ca": "ca.pem"]] {
            #expect(throws: CoordinatorConfig.Invalid.self) { try Self.config([:], extra: ["tls": partial]) }
        }
        // An object store whose secret this host does not have does not stop a worker that shares the file.
        let shared = try JSONSerialization.data(withJSONObject: [
            "join": ["key_id": "w", "secret": "join-secret-0123456789"],
            "objects": ["s3": ["endpoint": "http://s3", "bucket": "b", "access_key_id": "k"]],
        ])
        let join = try CoordinatorConfig.join(json: shared, environment: [:])
        #expect(join.keyID == "w" && join.secret == Array("join-secret-0123456789".utf8))
        #expect(throws: CoordinatorConfig.Invalid.self) { try CoordinatorConfig(json: shared, environment: [:]) }
    }

    @Test(
        "limits.max_connections: 16,384 by default, 1...1,000,000 accepted, anything else refused; event_loops 1...256")
    func connectionLimit() throws {
        #expect(try Self.config([:]).settings.maxConnections == 16_384)
        #expect(try Self.config([:]).settings.eventLoops == System.coreCount)
        #expect(try Self.config([:], extra: ["event_loops": 4]).settings.eventLoops == 4)
        #expect(throws: CoordinatorConfig.Invalid.self) { try Self.config([:], extra: ["event_loops": 0]) }
        #expect(try Self.config([:], extra: ["limits": ["max_connections": 3]]).settings.maxConnections == 3)
        for refused in [0, -1, 1_000_001, 2.5] {
            #expect(throws: CoordinatorConfig.Invalid.self) {
                try Self.config([:], extra: ["limits": ["max_connections": refused]])
            }
        }
        let gate = ConnectionGate(limit: 2)
        #expect(gate.enter() && gate.enter())
        #expect(!gate.enter(), "the third place does not exist")
        gate.leave()
        #expect(gate.enter() && gate.count == 2)
    }

    @Test("a tenant rate of 1e-12 (or 0, or huge) is refused by the config, naming the key")
    func extremeRates() throws {
        for rate in [1e-12, 0, -1, 1e12] {
            #expect(throws: CoordinatorConfig.Invalid.self) { try Self.config(["rate": rate]) }
        }
        #expect(throws: CoordinatorConfig.Invalid.self) { try Self.config(["burst": 0.5]) }
        #expect(throws: CoordinatorConfig.Invalid.self) {
            try Self.config([:], extra: ["auth": ["backoff_ms": 5000, "max_backoff_ms": 10]])
        }
        #expect(throws: CoordinatorConfig.Invalid.self) {
            try Self.config([:], extra: ["limits": ["idle_timeout_ms": 10]])
        }
        #expect(throws: CoordinatorConfig.Invalid.self) { try Self.config(["max_source_bytes": 1 << 40]) }
        let slowest = try Self.config(["rate": 0.001, "burst": 1])
        #expect(slowest.tenants[0].rate == 0.001)
    }

    @Test("the bucket's arithmetic never traps: tiny and huge rates give a bounded retry_after")
    func bucketArithmetic() {
        for rate in [1e-12, 1e-300, 0, -5, .nan, .infinity, 1e300] {
            var bucket = TokenBucket(rate: rate, burst: 1, now: now)
            let first = bucket.take(now: now)
            #expect(first == .admitted)
            guard case .rejected(let wait) = bucket.take(now: now) else {
                if rate < 1e300 { Issue.record("rate \(rate): a second token without waiting") }
                continue
            }
            #expect(wait > .zero && wait <= TokenBucket.longestWait, "rate \(rate)")
            _ = bucket.take(now: now + .hours(10_000))
        }
    }

    @Test("failed logins: after N failures the address waits, doubling; success forgets it; the table stays bounded")
    func loginThrottle() {
        var throttle = LoginThrottle(
            failuresBeforeBackoff: 3, backoff: .seconds(1), maxBackoff: .seconds(4), capacity: 100)
        for _ in 0..<2 { throttle.failed("10.0.0.1", now: now) }
        #expect(throttle.wait(for: "10.0.0.1", now: now) == nil)
        throttle.failed("10.0.0.1", now: now)
        #expect(throttle.wait(for: "10.0.0.1", now: now) == .seconds(1))
        #expect(throttle.wait(for: "10.0.0.2", now: now) == nil, "other addresses are not affected")
        throttle.failed("10.0.0.1", now: now)
        #expect(throttle.wait(for: "10.0.0.1", now: now) == .seconds(2))
        for _ in 0..<10 { throttle.failed("10.0.0.1", now: now) }
        #expect(throttle.wait(for: "10.0.0.1", now: now) == .seconds(4), "capped at the maximum")
        #expect(throttle.wait(for: "10.0.0.1", now: now + .seconds(5)) == nil)
        throttle.succeeded("10.0.0.1")
        throttle.failed("10.0.0.1", now: now)
        #expect(throttle.wait(for: "10.0.0.1", now: now) == nil)
        for index in 0..<10_000 { throttle.failed("192.0.2.\(index)", now: now) }
        #expect(throttle.trackedAddresses <= 100)
    }

    @Test(
        "backpressure: full socket stops reading, over budget congests, no progress for the timeout stalls, writable relieves"
    )
    func outboundPressure() {
        var pressure = OutboundPressure(budget: 1000, stallTimeout: .seconds(5))
        var congested = pressure.queued(buffered: 5000)
        #expect(!congested, "a writable connection is never congested")
        let stop = pressure.writabilityChanged(false, drained: 100, now: now)
        #expect(stop == .stopReading)
        congested = pressure.queued(buffered: 999)
        #expect(!congested)
        congested = pressure.queued(buffered: 1001)
        #expect(congested)
        congested = pressure.queued(buffered: 2000)
        #expect(!congested, "congested once")
        var stalled = pressure.isStalled(drained: 100, now: now + .seconds(4))
        #expect(!stalled)
        stalled = pressure.isStalled(drained: 150, now: now + .seconds(6))
        #expect(!stalled, "progress restarts the clock")
        stalled = pressure.isStalled(drained: 150, now: now + .seconds(10))
        #expect(!stalled)
        stalled = pressure.isStalled(drained: 150, now: now + .seconds(11))
        #expect(stalled)
        let resume = pressure.writabilityChanged(true, drained: 150, now: now)
        #expect(resume == .resumeReading(relieved: true))
        stalled = pressure.isStalled(drained: 150, now: now + .seconds(100))
        #expect(!stalled)
    }

    @Test("webhook_url: empty or an absolute http(s) URL with a host")
    func webhookURLs() {
        for good in ["", "https://client.example/hooks/done", "http://10.0.0.1:8080/x?y=1", "https://user@host"] {
            #expect(WebhookURL.problem(with: good) == nil, "\(good)")
        }
        for bad in [
            "not a url", "ftp://host/x", "https://", "https:///path", "https://ho st/", "https://host/\u{7}",
            "//host/x", "HTtpS://host:41055*",
            "https://" + String(repeating: "a", count: 3000),
        ] {
            #expect(WebhookURL.problem(with: bad) != nil, "\(bad)")
        }
    }
}

/// Budgets and parking in the cluster state machine.
@Suite("Cluster state: budgets and backpressure")
struct ClusterBudgetTests {
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    var state: ClusterState

    init() {
        var settings = CoordinatorSettings()
        settings.maxHeldSourceBytes = 1000
        settings.tenantMaxHeldSourceBytes = 250
        state = ClusterState(
            settings: settings,
            tenants: [
                TenantPolicy(keyID: "acme", secret: [1], rate: 1000, burst: 1000, maxQueued: 100),
                TenantPolicy(
                    keyID: "other", secret: [2], rate: 1000, burst: 1000, maxQueued: 100, maxHeldSourceBytes: 600),
            ], now: now)
    }

    static func submit(size: UInt64, key: String = "", pipeline: String = "[]") -> Submit {
        Submit(mode: .stream, idempotencyKey: key, sourceSize: size, pipeline: ByteBuffer(string: pipeline))
    }

    @Test("one tenant's declared uploads cannot take the whole held-source budget; others still get in")
    mutating func perTenantBudget() {
        var admitted = 0
        for _ in 0..<16 {
            if case .admitted = state.admit(
                tenant: "acme", submit: Self.submit(size: 64), variantCount: 1, subscriber: nil, now: now)
            {
                admitted += 1
            }
        }
        #expect(admitted == 3, "250 bytes of budget hold three 64-byte sources")
        guard
            case .rejected(let error) = state.admit(
                tenant: "acme", submit: Self.submit(size: 64), variantCount: 1, subscriber: nil, now: now)
        else {
            Issue.record("over the tenant budget")
            return
        }
        #expect(error.code == .queueFull && error.retryAfterMilliseconds != nil)
        guard
            case .admitted = state.admit(
                tenant: "other", submit: Self.submit(size: 500), variantCount: 1, subscriber: nil, now: now)
        else {
            Issue.record("another tenant was locked out")
            return
        }
    }

    @Test("an idempotency key reused with another pipeline or size is a conflict, not the first job")
    mutating func idempotencyConflicts() {
        guard
            case .admitted(let job) = state.admit(
                tenant: "acme", submit: Self.submit(size: 3, key: "k"), variantCount: 1, subscriber: nil, now: now)
        else {
            Issue.record("not admitted")
            return
        }
        _ = state.sourceReceived(job, source: .chunks([]), digest: [9], now: now)
        for other in [Self.submit(size: 4, key: "k"), Self.submit(size: 3, key: "k", pipeline: "[{}]")] {
            guard
                case .rejected(let error) = state.admit(
                    tenant: "acme", submit: other, variantCount: 1, subscriber: nil, now: now)
            else {
                Issue.record("a different request got the first job")
                continue
            }
            #expect(error.code == .idempotencyConflict)
        }
    }

    @Test("a congested client's jobs wait, then run in order once it drains; other clients' jobs are not held up")
    mutating func parking() {
        let slow = Subscriber(connection: 7, stream: 1)
        let fast = Subscriber(connection: 8, stream: 1)
        state.connectionCongested(7)
        var jobs: [JobID] = []
        for subscriber in [slow, slow, fast] {
            guard
                case .admitted(let id) = state.admit(
                    tenant: "other", submit: Self.submit(size: 1), variantCount: 1, subscriber: subscriber, now: now)
            else { return }
            _ = state.sourceReceived(id, source: .chunks([Chunk(raw: ByteBuffer(bytes: [1]), isLast: true)]), now: now)
            jobs.append(id)
        }
        let (_, first) = state.registerWorker(name: "w", address: "a", slots: 8, formats: [.jpeg], now: now)
        #expect(first.count == 1, "only the uncongested client's job is dispatched")
        let relieved = state.connectionRelieved(7, now: now)
        let order = relieved.compactMap { action -> JobID? in
            if case .assign(_, _, let assign, _, _) = action { return assign.taskID }
            return nil
        }
        #expect(order == [jobs[0], jobs[1]])
    }

    @Test("a cancelled job's STATUS carries no error code or message")
    mutating func cancelledStatus() {
        guard
            case .admitted(let job) = state.admit(
                tenant: "acme", submit: Self.submit(size: 1), variantCount: 1, subscriber: nil, now: now)
        else { return }
        let (status, _) = state.cancel(job, tenant: "acme", now: now)
        #expect(status?.state == .cancelled && status?.code == ErrorCode.none && status?.message == "")
    }
}

/// The scheduler's timelines: entries are hints checked against the job when they come due.
@Suite("Cluster state: timelines and lazy removal")
struct ClusterTimelineTests {
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    var state: ClusterState

    init() {
        var settings = CoordinatorSettings()
        settings.lease = .seconds(10)
        state = ClusterState(
            settings: settings,
            tenants: [TenantPolicy(keyID: "t", secret: [1], rate: 1000, burst: 1000, maxQueued: 1000)], now: now)
    }

    mutating func queued(_ count: Int, deadline: UInt32 = 0) -> [JobID] {
        (0..<count).compactMap { _ in
            let submit = Submit(
                mode: .async, deadlineMilliseconds: deadline, sourceSize: 1, pipeline: ByteBuffer(string: "[]"))
            guard
                case .admitted(let id) = state.admit(
                    tenant: "t", submit: submit, variantCount: 1, subscriber: nil, now: now)
            else { return nil }
            _ = state.sourceReceived(id, source: .chunks([Chunk(raw: ByteBuffer(bytes: [1]), isLast: true)]), now: now)
            return id
        }
    }

    @Test("a lease renewed by heartbeats outlives its first expiry; an unrenewed one expires once")
    mutating func leases() {
        let (worker, _) = state.registerWorker(name: "w", address: "a", slots: 2, formats: [.jpeg], now: now)
        let jobs = queued(2)
        _ = state.tick(now: now)
        // Only the first job is renewed, each second.
        for second in 1...12 {
            _ = state.heartbeat(
                worker: worker, tasks: [.init(taskID: jobs[0], attempt: 1)], now: now + .seconds(Int64(second)))
        }
        let actions = state.tick(now: now + .seconds(12))
        let cancelled = actions.compactMap { if case .cancelTask(_, let job, _) = $0 { job } else { nil } }
        #expect(cancelled == [jobs[1]])
        #expect(state.status(of: jobs[0], tenant: "t")?.state == .running)
        #expect(state.tick(now: now + .seconds(13)).allSatisfy { if case .cancelTask = $0 { false } else { true } })
    }

    @Test(
        "cancelled queued jobs are skipped by dispatch without being searched for; a deadline ends a job only while it waits"
    )
    mutating func lazyRemoval() {
        let late = queued(1, deadline: 500)
        let patient = queued(1, deadline: 5_000)
        let actions = state.tick(now: now + .seconds(1))
        guard case .finished(late[0], "t", let subscribers, .jobFailed) = actions.first, actions.count == 1 else {
            Issue.record("expected the late job to finish: \(actions)")
            return
        }
        #expect(subscribers.isEmpty, "nobody watches: nobody to notify")
        #expect(state.status(of: late[0], tenant: "t")?.state == .failed)
        #expect(state.status(of: late[0], tenant: "t")?.code == .deadlineExceeded)
        #expect(state.status(of: patient[0], tenant: "t")?.state == .queued)

        let jobs = queued(5)
        for job in jobs.prefix(3) { _ = state.cancel(job, tenant: "t", now: now) }
        let (_, dispatched) = state.registerWorker(
            name: "w", address: "a", slots: 8, formats: [.jpeg], now: now + .seconds(1))
        #expect(assignments(dispatched).map(\.job) == patient + Array(jobs.suffix(2)))
        // The patient job now runs: its deadline no longer applies.
        _ = state.tick(now: now + .seconds(6))
        #expect(state.status(of: patient[0], tenant: "t")?.state == .running)
    }

    @Test("heartbeats do not add timeline entries: a worker spamming them leaves one lease entry per task")
    mutating func heartbeatFlood() {
        let (worker, _) = state.registerWorker(name: "w", address: "a", slots: 4, formats: [.jpeg], now: now)
        let jobs = queued(4)
        let held = jobs.map { Heartbeat.HeldTask(taskID: $0, attempt: 1) }
        for index in 0..<10_000 {
            _ = state.heartbeat(worker: worker, tasks: held, now: now + .milliseconds(Int64(index / 100)))
        }
        #expect(state.leaseExpiries.count == 4)
        _ = state.tick(now: now + .milliseconds(10_050))  // the first entries come due and are rescheduled, not expired
        #expect(jobs.allSatisfy { state.status(of: $0, tenant: "t")?.state == .running })
        #expect(state.leaseExpiries.count == 4)
    }

    @Test("submit-and-cancel with no worker leaves no growing residue; a key cancelled mid-upload is free again")
    mutating func residue() {
        for _ in 0..<5_000 {
            now = now + .milliseconds(2)  // within the tenant's rate of 1000 jobs/s
            guard let job = queued(1).first else {
                Issue.record("not admitted")
                return
            }
            _ = state.cancel(job, tenant: "t", now: now)
            _ = state.tick(now: now)
        }
        #expect(state.queue.count <= 1024 + 2)
        let keyed = Submit(mode: .async, idempotencyKey: "k", sourceSize: 10, pipeline: ByteBuffer(string: "[]"))
        guard
            case .admitted(let first) = state.admit(
                tenant: "t", submit: keyed, variantCount: 1, subscriber: nil, now: now)
        else { return }
        _ = state.cancel(first, tenant: "t", now: now)  // its source never completed
        guard
            case .admitted(let second) = state.admit(
                tenant: "t", submit: keyed, variantCount: 1, subscriber: nil, now: now)
        else {
            Issue.record("the key of a job cancelled during its upload stayed taken")
            return
        }
        #expect(second != first)
    }
}
