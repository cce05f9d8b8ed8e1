import PixelFlowProtocol
import Testing

@testable import PixelFlowClient

/// The client's own public types, converted from the wire structs they stand in for.
@Suite struct ClientTypesTests {
    @Test(arguments: JobStatus.State.allCases)
    func jobStatesMatchTheWireStates(_ wire: JobStatus.State) {
        let state = JobState(wire: wire)
        #expect(state.description == wire.description)
        #expect(state.isTerminal == wire.isTerminal)
    }

    @Test func statusReportsCarryTheFailure() {
        let running = JobStatusReport(wire: JobStatus(jobID: 3, state: .running, attempts: 1, variantsDone: 2))
        #expect(running == JobStatusReport(jobID: JobID(3), state: .running, attempts: 1, variantsDone: 2))

        let failed = JobStatusReport(
            wire: JobStatus(
                jobID: 4, state: .failed, attempts: 3, variantsDone: 0, code: .retriesExhausted, message: "gave up"))
        #expect(failed.state == .failed)
        #expect(failed.error?.code == .other && failed.error?.name == "retries_exhausted")
        #expect(failed.error?.jobID == JobID(4) && failed.error?.message == "gave up")

        // A coordinator that marks a job failed without a code still yields an error to look at.
        let uncoded = JobStatusReport(wire: JobStatus(jobID: 5, state: .failed, attempts: 1, variantsDone: 0))
        #expect(uncoded.error?.protocolCode == "none")
    }

    @Test func limitsRoundTripAndClamp() {
        #expect(ConnectionLimits.default.wire == ProtocolLimits.default)
        #expect(ConnectionLimits().maxChunkData == 256 * 1024 && ConnectionLimits().maxInFlight == 256)
        var wire = ProtocolLimits.default
        wire.maxInFlight = 7
        wire.maxSourceBytes = 123_456_789_012
        #expect(ConnectionLimits(wire: wire).wire == wire)

        var limits = ConnectionLimits()
        limits.maxInFlight = 1_000_000
        limits.maxChunkData = -1
        #expect(limits.wire.maxInFlight == UInt16.max && limits.wire.maxChunkData == 0)
    }

    @Test func workersAndStatsKeepEveryField() {
        let worker = WorkerList.Worker(
            name: "w1", address: "10.0.0.2:5000", slots: 4, busy: 3, done: .max, failed: 2,
            lastHeartbeatMillisecondsAgo: 300)
        #expect(
            WorkerInfo(wire: worker)
                == WorkerInfo(
                    name: "w1", address: "10.0.0.2:5000", slots: 4, busy: 3, done: .max, failed: 2,
                    lastHeartbeatMillisecondsAgo: 300))

        let stats = Stats(
            total: .init(queued: 1, running: 2, admitted: 3, rejected: 4, succeeded: 5, failed: 6), workers: 7,
            tenants: [.init(name: "acme", counters: .init(queued: 1, admitted: 3))])
        #expect(
            ClusterStats(wire: stats)
                == ClusterStats(
                    total: .init(queued: 1, running: 2, admitted: 3, rejected: 4, succeeded: 5, failed: 6), workers: 7,
                    tenants: [.init(name: "acme", counters: .init(queued: 1, admitted: 3))]))
    }

    @Test func outcomesKeepEveryField() {
        let done = JobDone(jobID: 9, variants: 3, attempts: 2, elapsedMilliseconds: 812)
        #expect(
            JobOutcome(wire: done) == JobOutcome(jobID: JobID(9), variants: 3, attempts: 2, elapsedMilliseconds: 812))
    }
}
