import PixelFlowProtocol
import Testing

@testable import PixelFlowClient
@testable import pfctl

/// pfctl's output is a contract: these documents, byte for byte, from what the coordinator sends.
@Suite struct OutputFormatTests {
    static func status(_ wire: JobStatus) -> JobStatusReport { JobStatusReport(wire: wire) }

    @Test func statusText() {
        let running = Self.status(JobStatus(jobID: 7, state: .running, attempts: 1, variantsDone: 2))
        #expect(TextOutput.status(running) == "job 7: running, 1 attempt, 2 variants done")
        let failed = Self.status(
            JobStatus(
                jobID: 7, state: .failed, attempts: 2, variantsDone: 1, code: .undecodableImage, message: "bad"))
        #expect(TextOutput.status(failed) == "job 7: failed, 2 attempts, 1 variant done; undecodable_image: bad")
        let uncoded = Self.status(JobStatus(jobID: 8, state: .failed, attempts: 1, variantsDone: 0, message: "?"))
        #expect(TextOutput.status(uncoded) == "job 8: failed, 1 attempt, 0 variants done")
    }

    @Test func statusJSON() {
        let queued = Self.status(JobStatus(jobID: 8, state: .queued, attempts: 0, variantsDone: 0))
        #expect(
            JSONOutput.status(queued) == #"{"job_id":8,"state":"queued","attempts":0,"variants_done":0,"error":null}"#)
        // The coordinator's own code name, even where the client's error kind is coarser.
        let coarse = Self.status(
            JobStatus(
                jobID: 9, state: .failed, attempts: 1, variantsDone: 0, code: .handshakeTimeout, message: "slow"))
        #expect(JSONOutput.status(coarse).hasSuffix(#""error":{"code":"handshake_timeout","message":"slow"}}"#))
        let uncoded = Self.status(JobStatus(jobID: 8, state: .failed, attempts: 1, variantsDone: 0, message: "?"))
        #expect(JSONOutput.status(uncoded).hasSuffix(#""error":{"code":"none","message":"?"}}"#))
        let cancelled = Self.status(
            JobStatus(
                jobID: 3, state: .cancelled, attempts: 1, variantsDone: 0, code: .cancelled, message: "by the client"))
        #expect(JSONOutput.status(cancelled).hasSuffix(#""error":{"code":"cancelled","message":"by the client"}}"#))
    }

    @Test func waitOutcome() {
        let done = JobOutcome(wire: JobDone(jobID: 9, variants: 3, attempts: 1, elapsedMilliseconds: 891))
        #expect(TextOutput.outcome(JobID(9), .success(done)) == "job 9 succeeded: 3 variants, 1 attempt, 891 ms")
        #expect(
            JSONOutput.outcome(JobID(9), .success(done))
                == #"{"job_id":9,"ok":true,"variants":3,"attempts":1,"elapsed_ms":891}"#)
        let failed = PixelFlowClientError(wire: .retriesExhausted, message: "gave up", jobID: JobID(9))
        #expect(TextOutput.outcome(JobID(9), .failure(failed)) == "job 9 failed: retries_exhausted: gave up")
        #expect(
            JSONOutput.outcome(JobID(9), .failure(failed))
                == #"{"job_id":9,"ok":false,"error":{"code":"retries_exhausted","message":"gave up"}}"#)
    }

    @Test func workersAndStats() {
        let worker = WorkerInfo(
            wire: WorkerList.Worker(
                name: "w1", address: "10.0.0.2:5000", slots: 2, busy: 1, done: 9, failed: 0,
                lastHeartbeatMillisecondsAgo: 300))
        #expect(
            JSONOutput.workers([worker])
                == #"[{"name":"w1","address":"10.0.0.2:5000","slots":2,"busy":1,"done":9,"failed":0,"#
                + #""last_heartbeat_ms":300}]"#)

        let stats = ClusterStats(
            wire: Stats(
                total: .init(queued: 4, running: 2, admitted: 10, rejected: 3, succeeded: 5, failed: 1), workers: 2,
                tenants: [.init(name: "acme", counters: .init(queued: 4, admitted: 10, rejected: 3))]))
        #expect(
            TextOutput.stats(stats) == """
                queue depth 4, running 2, workers 2
                admitted 10, rejected 3, succeeded 5, failed 1

                TENANT  QUEUED  RUNNING  ADMITTED  REJECTED  SUCCEEDED  FAILED
                acme    4       0        10        3         0          0

                """)
        #expect(
            JSONOutput.stats(stats) == #"{"queued":4,"running":2,"admitted":10,"rejected":3,"succeeded":5,"failed":1,"#
                + #""workers":2,"tenants":[{"name":"acme","queued":4,"running":0,"admitted":10,"rejected":3,"#
                + #""succeeded":0,"failed":0}]}"#)
    }

    @Test func errors() {
        let limited = PixelFlowClientError(wire: .rateLimited, message: "over 5/s", retryAfterMilliseconds: 250)
        #expect(
            JSONOutput.error(limited) == #"{"error":{"code":"rate_limited","message":"over 5/s","retry_after_ms":250}}"#
        )
        #expect("\(limited)" == "rate_limited: over 5/s (retry after 0.25 seconds)")
        let lost = PixelFlowClientError.connectionLost("cannot connect to h:1: refused")
        #expect(
            JSONOutput.error(lost)
                == #"{"error":{"code":"connection_lost","message":"cannot connect to h:1: refused"}}"#)
        let draining = PixelFlowClientError(rejected: .shuttingDown, "the coordinator is shutting down: bye")
        #expect(
            JSONOutput.error(draining)
                == #"{"error":{"code":"shutting_down","message":"the coordinator is shutting down: bye"}}"#)
    }
}
