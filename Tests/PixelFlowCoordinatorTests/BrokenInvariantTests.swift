import NIOCore
import PixelFlowProtocol
import Testing

@testable import PixelFlowCoordinator

/// A state the cluster should never reach ends the job concerned with `internal` and reports it, instead of
/// trapping (the only coordinator would go down) or dropping the job silently (its client would wait forever).
@Suite("Broken invariants")
struct BrokenInvariantTests {
    @Test("a job whose tenant vanished fails with internal, its watcher is told, and the error is reported")
    func unknownTenant() throws {
        let now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var state = ClusterState(
            settings: CoordinatorSettings(), tenants: [TenantPolicy(keyID: "t", secret: [1])], now: now)
        let watcher = Subscriber(connection: 3, stream: 5)
        let submit = Submit(mode: .stream, sourceSize: 1, pipeline: ByteBuffer(string: "[]"))
        guard
            case .admitted(let job) = state.admit(
                tenant: "t", submit: submit, variantCount: 1, subscriber: watcher, now: now)
        else { throw ProtocolError(.internal, "not admitted") }
        state.tenants["t"] = nil  // the impossible: no operation removes a tenant
        let actions = state.cancel(job, tenant: "t", now: now).1 + state.abandon(job, reason: "test", now: now)
        let reported = actions.contains { if case .internalError = $0 { true } else { false } }
        #expect(reported)
        let told = actions.compactMap { action -> JobFailed? in
            guard case .finished(job, _, [watcher], .jobFailed(let failed)) = action else { return nil }
            return failed
        }
        #expect(told.map(\.code) == [.internal])
        #expect(state.liveJobCount == 0)
    }
}
