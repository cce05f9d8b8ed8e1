import NIOCore
import PixelFlowProtocol
import Testing

@testable import PixelFlowCoordinator

/// Workers advertise the formats they encode in REGISTER; a job goes only to a worker that encodes all of its own.
@Suite("Scheduling by advertised formats")
struct FormatSchedulingTests {
    let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    var state = ClusterState(
        settings: CoordinatorSettings(), tenants: [TenantPolicy(keyID: "t", secret: [1], rate: 1_000, burst: 1_000)],
        now: NIODeadline.uptimeNanoseconds(1_000_000_000))

    mutating func queue(_ formats: OutputFormats) throws -> (JobID, [ClusterAction]) {
        let submit = Submit(mode: .async, sourceSize: 1, pipeline: ByteBuffer(string: "[]"))
        guard
            case .admitted(let id) = state.admit(
                tenant: "t", submit: submit, variantCount: 1, formats: formats, subscriber: nil, now: now)
        else { throw ProtocolError(.internal, "not admitted") }
        return (
            id, state.sourceReceived(id, source: .chunks([Chunk(raw: ByteBuffer(bytes: [1]), isLast: true)]), now: now)
        )
    }

    @Test("an AVIF job waits for a worker that encodes AVIF while JPEG jobs behind it run; then it runs there")
    mutating func formatsDecide() throws {
        let (jpegOnly, _) = state.registerWorker(name: "old", address: "a", slots: 4, formats: [.jpeg], now: now)
        let (avifJob, first) = try queue([.jpeg, .avif])
        #expect(assignments(first).isEmpty, "the only worker cannot encode AVIF")
        let (jpegJob, second) = try queue([.jpeg])
        #expect(assignments(second).map(\.job) == [jpegJob])
        #expect(assignments(second).map(\.worker) == [jpegOnly])
        #expect(state.status(of: avifJob, tenant: "t")?.state == .queued)

        let (full, joined) = state.registerWorker(
            name: "new", address: "b", slots: 1, formats: [.jpeg, .avif], now: now)
        #expect(assignments(joined).map(\.job) == [avifJob])
        #expect(assignments(joined).map(\.worker) == [full])
    }

    @Test(
        "a job whose data is in the object store goes only to a worker with the objects bit, as ASSIGN_OBJECT; one that runs out of attempts on storage_error fails with it"
    )
    mutating func objectJobs() throws {
        let (plain, _) = state.registerWorker(name: "plain", address: "a", slots: 4, formats: [.jpeg], now: now)
        let submit = Submit(mode: .async, sourceSize: 10, pipeline: ByteBuffer(string: "[]"))
        guard
            case .admitted(let id) = state.admit(
                tenant: "t", submit: submit, variantCount: 1, formats: [.jpeg, .objects], subscriber: nil, now: now)
        else { throw ProtocolError(.internal, "not admitted") }
        let queued = state.sourceReceived(id, source: .object(key: "p/t/1/source"), now: now)
        #expect(assignments(queued).isEmpty, "the only worker cannot reach the object store")

        var attempts: [UInt16] = []
        var (capable, actions) = state.registerWorker(
            name: "s3", address: "b", slots: 1, formats: [.jpeg, .objects], now: now)
        #expect(capable != plain)
        var time = now
        for _ in 0..<state.settings.maxAttempts {
            let sent = actions.compactMap { action -> (WorkerID, Assign, String)? in
                if case .assign(let worker, _, let assign, .object(let key), _) = action {
                    return (worker, assign, key)
                }
                return nil
            }
            guard let (worker, assign, key) = sent.first else {
                Issue.record("no ASSIGN_OBJECT for attempt \(attempts.count + 1)")
                return
            }
            #expect(worker == capable && key == "p/t/1/source" && assign.sourceSize == 10)
            attempts.append(assign.attempt)
            _ = state.taskFailed(
                worker: capable, job: id, attempt: assign.attempt, code: .storageError, permanent: false,
                message: "the source could not be read from the object store", now: time)
            time = time + .seconds(3600)  // past any backoff
            actions = state.tick(now: time)
        }
        #expect(attempts == Array(1...state.settings.maxAttempts))
        let status = try #require(state.status(of: id, tenant: "t"))
        #expect(status.state == .failed && status.code == .storageError, "\(status)")
    }

    @Test("the coordinator reads a pipeline's formats with the engine's own decoder")
    func pipelineFormats() throws {
        let json =
            #"[{"id":"a","action":"resize","width":10,"format":"avif"},"#
            + #"{"id":"b","action":"resize","width":20,"format":"jpg"}]"#
        let summary = try PipelineRules.validate(ByteBuffer(string: json)).get()
        #expect(summary == PipelineSummary(variantCount: 2, formats: [.avif, .jpeg]))
    }
}
