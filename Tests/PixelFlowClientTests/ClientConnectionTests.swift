import PixelFlowClient
import PixelFlowProtocol
import Synchronization
import Testing

/// The client library against a fake coordinator on 127.0.0.1: a real TCP connection, the real codec and
/// handshake, scripted answers.
@Suite(.timeLimit(.minutes(1)))
struct ClientConnectionTests {
    static let pipeline =
        #"[{"id":"echo","action":"resize","width":150,"format":"png"},{"id":"pattern","action":"resize","width":150,"format":"webp"}]"#

    static func connect<Result: Sendable>(
        _ fake: FakeCoordinator, secret: String = FakeCoordinator.secret, reconnect: Bool = true,
        _ body: (PixelFlowClient) async throws -> Result
    ) async throws -> Result {
        var configuration = PixelFlowClient.Configuration()
        if !reconnect { configuration.reconnect = nil }
        return try await PixelFlowClient.withConnection(
            to: "127.0.0.1", port: fake.port, keyID: FakeCoordinator.keyID, secret: secret,
            configuration: configuration, body)
    }

    /// Incompressible bytes (so chunks travel raw and the fake sees real chunk sizes), cheap to make.
    static func randomSource(_ count: Int) -> [UInt8] {
        var state = UInt64.random(in: 1...UInt64.max)
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    @Test func variantsArriveOneByOneBeforeCompletion() async throws {
        let gate = Gate()
        let source = Self.randomSource(600_000)  // three chunks of at most 256 KiB
        let events = try await FakeCoordinator.run(script: { _ in .succeed(gate: gate) }) { fake in
            try await Self.connect(fake) { client in
                var events: [JobEvent] = []
                for try await event in client.process(source: source, pipeline: Self.pipeline) {
                    events.append(event)
                    // The second variant is held back until the first has reached us: it was not buffered.
                    if case .variant(let variant) = event, variant.id == "echo" {
                        #expect(!events.contains { if case .completed = $0 { true } else { false } })
                        gate.open()
                    }
                    #expect(events.count <= 4)
                }
                return events
            }
        }
        try #require(events.count == 4)
        guard case .accepted(let jobID, let duplicate) = events[0] else {
            Issue.record("first event: \(events[0])"); return
        }
        #expect(!duplicate)
        guard case .variant(let echo) = events[1], case .variant(let pattern) = events[2],
            case .completed(let done) = events[3]
        else {
            Issue.record("events: \(events)")
            return
        }
        #expect(echo.id == "echo" && echo.format == "png" && echo.width == 150 && echo.height == 100)
        #expect(echo.bytes == source)
        #expect(pattern.id == "pattern" && pattern.bytes == FakeCoordinator.pattern(count: 5_000))
        #expect(done == JobOutcome(jobID: jobID, variants: 2, attempts: 1, elapsedMilliseconds: 42))
    }

    @Test func manyConcurrentJobsShareOneConnection() async throws {
        let sizes = (0..<40).map { $0 * 9_973 % 400_000 }  // includes an empty source
        let seen = try await FakeCoordinator.run(script: { _ in .succeed() }) { fake in
            try await Self.connect(fake) { client in
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    for size in sizes {
                        group.addTask {
                            let source = Self.randomSource(size)
                            var echoed: [UInt8]?
                            var completed = false
                            for try await event in client.process(source: source, pipeline: Self.pipeline) {
                                switch event {
                                case .variant(let variant) where variant.id == "echo": echoed = variant.bytes
                                case .completed: completed = true
                                case .accepted, .variant: break
                                }
                            }
                            return completed && echoed == source
                        }
                    }
                    var good = 0
                    for try await ok in group where ok { good += 1 }
                    #expect(good == sizes.count)
                }
            }
            return fake.seen
        }
        #expect(seen.connections == 1)
        #expect(seen.submits == sizes.count)
        #expect(seen.violations.isEmpty, "\(seen.violations)")
        #expect(seen.largestChunk <= Int(ProtocolLimits.default.maxChunkData))
        #expect(seen.sources.sorted() == sizes.sorted())
    }

    @Test func rateLimitedRejectionCarriesRetryAfter() async throws {
        let source = Self.randomSource(1_000_000)
        let seen = try await FakeCoordinator.run(script: { _ in
            .reject(.rateLimited, retryAfterMilliseconds: 200, message: "tenant acme over 5/s")
        }) { fake in
            try await Self.connect(fake) { client in
                let streamed = await #expect(throws: PixelFlowClientError.self) {
                    for try await _ in client.process(source: source, pipeline: Self.pipeline) {}
                }
                #expect(streamed?.code == .rejected)
                #expect(streamed?.rejectionReason == .rateLimited)
                #expect(streamed?.retryAfter == .milliseconds(200))
                #expect(streamed?.protocolCode == "rate_limited")
                #expect(streamed?.isRetryable == true)

                let submitted = await #expect(throws: PixelFlowClientError.self) {
                    _ = try await client.submit(source: source, pipeline: Self.pipeline)
                }
                #expect(submitted?.code == .rejected && submitted?.rejectionReason == .rateLimited)
                #expect(submitted?.retryAfter == .milliseconds(200))

                // The connection is still healthy after two rejected uploads.
                let status = try await client.status(JobID(7))
                #expect(status.jobID == JobID(7) && status.state == .running)
            }
            return fake.seen
        }
        #expect(seen.rejectedStreamsEnded == 2, "each rejected upload still ends with an END chunk")
        #expect(seen.violations.isEmpty, "\(seen.violations)")
    }

    @Test func invalidPipelineNamesTheField() async throws {
        try await FakeCoordinator.run(script: { _ in
            .reject(.invalidPipeline, retryAfterMilliseconds: 0, message: "pipeline[0].width: must be 1...16384")
        }) { fake in
            try await Self.connect(fake) { client in
                let error = await #expect(throws: PixelFlowClientError.self) {
                    for try await _ in client.process(source: [1, 2, 3], pipeline: Self.pipeline) {}
                }
                #expect(error?.code == .invalidPipeline)
                #expect(error?.message.contains("pipeline[0].width") == true)
                #expect(error?.retryAfter == nil)
            }
        }
    }

    @Test func failedJobIsTyped() async throws {
        try await FakeCoordinator.run(script: { _ in .fail(.undecodableImage, message: "not an image") }) { fake in
            try await Self.connect(fake) { client in
                var accepted = false
                let error = await #expect(throws: PixelFlowClientError.self) {
                    for try await event in client.process(source: Array("hello".utf8), pipeline: Self.pipeline) {
                        if case .accepted = event { accepted = true }
                    }
                }
                #expect(accepted)
                #expect(error?.code == .undecodableImage)
                #expect(error?.jobID != nil)
                #expect(error?.message == "not an image")
            }
        }
    }

    @Test func wrongSecretIsUnauthorized() async throws {
        let wrongSecret = "not-the-secret-\(UInt32.random(in: 0...UInt32.max))"
        try await FakeCoordinator.run(script: { _ in .succeed() }) { fake in
            let error = await #expect(throws: PixelFlowClientError.self) {
                try await Self.connect(fake, secret: wrongSecret) { _ in }
            }
            #expect(error?.code == .unauthorized)
            #expect(error.map { !"\($0)".contains(wrongSecret) } == true)
        }
    }

    @Test func unreachableCoordinatorIsConnectionLost() async throws {
        // Bind a port, then close it, so nothing listens there.
        let port = try await FakeCoordinator.run(script: { _ in .succeed() }) { $0.port }
        let error = await #expect(throws: PixelFlowClientError.self) {
            try await PixelFlowClient.withConnection(to: "127.0.0.1", port: port, keyID: "acme", secret: "x") { _ in }
        }
        #expect(error?.code == .connectionLost)
    }

    /// With reconnection turned off (`Configuration.reconnect = nil`): the ClientReconnectTests of the live cluster
    /// cover the default, where these requests carry on over a new connection.
    @Test func withoutReconnectingAConnectionLossFailsEveryPendingRequest() async throws {
        try await FakeCoordinator.run(script: { _ in .dropMidVariant }) { fake in
            try await Self.connect(fake, reconnect: false) { client in
                async let watched: Result<JobOutcome, PixelFlowClientError> = {
                    do throws(PixelFlowClientError) {
                        return .success(try await client.wait(JobID(FakeCoordinator.silentJobID)))
                    } catch { return .failure(error) }
                }()
                // Let the WATCH reach the coordinator first, so it is pending when the connection drops.
                var attempts = 0
                while client.requestsInFlight == 0 && attempts < 200 {
                    try await Task.sleep(for: .milliseconds(5))
                    attempts += 1
                }
                #expect(client.requestsInFlight == 1)

                var variants = 0
                let error = await #expect(throws: PixelFlowClientError.self) {
                    for try await event in client.process(source: Self.randomSource(50_000), pipeline: Self.pipeline) {
                        if case .variant = event { variants += 1 }
                    }
                }
                #expect(error?.code == .connectionLost)
                #expect(variants == 0, "an incomplete variant is never delivered")
                if case .failure(let watchError) = await watched {
                    #expect(watchError.code == .connectionLost)
                } else {
                    Issue.record("the pending WATCH should fail")
                }
                // A request after the loss fails at once.
                await #expect(throws: PixelFlowClientError.self) { _ = try await client.stats() }
            }
        }
    }

    /// A stream job that ended while the client was reconnecting: its resubmission finds the ended job (JOB_DONE at
    /// once, its variants gone), so the client runs it afresh under a new key and the caller still gets every
    /// variant once.
    @Test func aJobThatEndedWhileAwayIsRunAfresh() async throws {
        let scripts: [FakeScript] = [.dropMidVariant, .endedDuplicate, .succeed()]
        let seen = try await FakeCoordinator.run(script: { scripts[min($0, 2)] }) { fake in
            let ids = try await Self.connect(fake) { client in
                var ids: [String] = []
                for try await event in client.process(source: Self.randomSource(5_000), pipeline: Self.pipeline) {
                    if case .variant(let variant) = event { ids.append(variant.id) }
                }
                return ids
            }
            #expect(ids.sorted() == ["echo", "pattern"])
            return fake.seen
        }
        #expect(seen.submits == 3)
        #expect(seen.keys[0].isEmpty, "a first submission needs no key of the client's")
        #expect(seen.keys[1].hasPrefix("pfc-"), "the resubmission after the loss carries the job's generated key")
        #expect(seen.keys[2] != seen.keys[1] && !seen.keys[2].isEmpty, "the run afresh has a key of its own")
    }

    /// With the caller's own key the job cannot be run again under another: the caller is told what was missed.
    @Test func aJobThatEndedWhileAwayUnderTheCallersKeyIsReported() async throws {
        let scripts: [FakeScript] = [.dropMidVariant, .endedDuplicate]
        try await FakeCoordinator.run(script: { scripts[min($0, 1)] }) { fake in
            try await Self.connect(fake) { client in
                var options = SubmitOptions()
                options.idempotencyKey = "caller-key-1"
                let error = await #expect(throws: PixelFlowClientError.self) {
                    for try await _ in client.process(
                        source: Self.randomSource(5_000), pipeline: Self.pipeline, options: options)
                    {}
                }
                #expect(error?.code == .connectionLost)
                #expect(
                    error?.message.contains("2 of its 2 variants were not received") == true,
                    "\(String(describing: error))")
            }
        }
    }

    @Test func maxInFlightIsRespected() async throws {
        var limits = ProtocolLimits.default
        limits.maxInFlight = 2
        let jobs = 8
        let seen = try await FakeCoordinator.run(
            limits: limits, script: { _ in .succeed(completionDelay: .milliseconds(30)) }
        ) { fake in
            try await Self.connect(fake) { client in
                #expect(client.limits.maxInFlight == 2)
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<jobs {
                        group.addTask {
                            var completed = 0
                            for try await event in client.process(
                                source: Self.randomSource(1_000 + index), pipeline: Self.pipeline)
                            {
                                if case .completed = event { completed += 1 }
                            }
                            return completed
                        }
                    }
                    var completed = 0
                    for try await count in group { completed += count }
                    #expect(completed == jobs)
                }
            }
            return fake.seen
        }
        #expect(seen.maxOpenStreams == 2, "the client used its window but never exceeded it")
        #expect(seen.submits == jobs)
        #expect(seen.violations.isEmpty, "\(seen.violations)")
    }

    @Test func requestWaitingForASlotCanBeCancelled() async throws {
        var limits = ProtocolLimits.default
        limits.maxInFlight = 1
        try await FakeCoordinator.run(limits: limits, script: { _ in .succeed() }) { fake in
            try await Self.connect(fake) { client in
                try await withThrowingTaskGroup(of: PixelFlowClientError?.self) { group in
                    // Takes the only slot and never gets an answer.
                    group.addTask {
                        do throws(PixelFlowClientError) {
                            _ = try await client.wait(JobID(FakeCoordinator.silentJobID))
                        } catch { return error }
                        return nil
                    }
                    var attempts = 0
                    while client.requestsInFlight == 0 && attempts < 200 {
                        try await Task.sleep(for: .milliseconds(5))
                        attempts += 1
                    }
                    #expect(client.requestsInFlight == 1)
                    let waiting = Task { () -> PixelFlowClientError? in
                        do throws(PixelFlowClientError) { _ = try await client.stats() } catch { return error }
                        return nil
                    }
                    try await Task.sleep(for: .milliseconds(50))
                    #expect(client.requestsInFlight == 1, "the second request waits for the slot")
                    waiting.cancel()
                    let cancelled = await waiting.value
                    #expect(cancelled?.code == .cancelled)
                    group.cancelAll()
                    for try await _ in group {}
                }
            }
        }
    }

    @Test func requestsAndAnswers() async throws {
        try await FakeCoordinator.run(script: { _ in .succeed() }) { fake in
            try await Self.connect(fake) { client in
                let job = try await client.submit(
                    source: Self.randomSource(300_000), pipeline: Self.pipeline, idempotencyKey: "k1", priority: 200,
                    deadline: .seconds(5))
                #expect(job.rawValue % 10 == 0 && job.rawValue > 0)

                let status = try await client.status(job)
                #expect(status == JobStatusReport(jobID: job, state: .running, attempts: 1, variantsDone: 1))

                let outcome = try await client.wait(job)
                #expect(outcome == JobOutcome(jobID: job, variants: 2, attempts: 1, elapsedMilliseconds: 12))

                // A coordinator that relays variants to watchers too is tolerated: the WATCH still ends with JOB_DONE.
                let chatty = try await client.wait(JobID(FakeCoordinator.chattyJobID))
                #expect(chatty.jobID == JobID(FakeCoordinator.chattyJobID))
                #expect(client.requestsInFlight == 0)

                let cancelled = try await client.cancel(job)
                #expect(cancelled.state == .cancelled && cancelled.state.isTerminal)
                #expect(cancelled.error?.code == .cancelled && cancelled.error?.jobID == job)
                #expect(cancelled.error?.message == "cancelled by the client")

                let workers = try await client.workers()
                #expect(workers.map(\.name) == ["w1", "w2"])
                #expect(
                    workers.first
                        == WorkerInfo(
                            name: "w1", address: "127.0.0.1:5001", slots: 2, busy: 1, done: 10, failed: 1,
                            lastHeartbeatMillisecondsAgo: 250))

                let stats = try await client.stats()
                let counters = ClusterStats.Counters(
                    queued: 3, running: 2, admitted: 100, rejected: 7, succeeded: 90, failed: 5)
                let acme = ClusterStats.Tenant(name: "acme", counters: counters)
                #expect(stats == ClusterStats(total: counters, workers: 2, tenants: [acme]))

                let missing = await #expect(throws: PixelFlowClientError.self) {
                    _ = try await client.status(JobID(FakeCoordinator.unknownJobID))
                }
                #expect(missing?.code == .notFound)
                let unwatched = await #expect(throws: PixelFlowClientError.self) {
                    _ = try await client.wait(JobID(FakeCoordinator.unknownJobID))
                }
                #expect(unwatched?.code == .notFound)
            }
        }
    }

    @Test func oversizedSourceIsRefusedLocally() async throws {
        var limits = ProtocolLimits.default
        limits.maxSourceBytes = 1_000
        let submits = try await FakeCoordinator.run(limits: limits, script: { _ in .succeed() }) { fake in
            try await Self.connect(fake) { client in
                let error = await #expect(throws: PixelFlowClientError.self) {
                    _ = try await client.submit(source: Self.randomSource(1_001), pipeline: Self.pipeline)
                }
                #expect(error?.code == .sourceTooLarge)
            }
            return fake.seen.submits
        }
        #expect(submits == 0)
    }
}
