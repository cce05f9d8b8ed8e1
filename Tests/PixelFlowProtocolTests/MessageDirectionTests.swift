import Testing

@testable import PixelFlowProtocol

/// The per-direction message enums agree with `FrameType.senders`: a message belongs to a peer's direction
/// exactly when that peer may send it, handshake messages belong to none, and every coordinator message after
/// the handshake goes to a client, a worker or both.
@Suite("Message directions")
struct MessageDirectionTests {
    static let handshake: Set<FrameType> = [.hello, .auth, .authOK]

    @Test("every message type of the golden vectors falls in the directions its senders allow")
    func directionsMatchSenders() {
        var seen: Set<FrameType> = []
        for (name, frame) in GoldenFrames.frames {
            let message = frame.message
            let type = message.frameType
            seen.insert(type)
            let afterHandshake = !Self.handshake.contains(type)
            #expect(
                (ClientToCoordinator(message) != nil) == (afterHandshake && type.senders.contains(.client)), "\(name)")
            #expect(
                (WorkerToCoordinator(message) != nil) == (afterHandshake && type.senders.contains(.worker)), "\(name)")
            let fromCoordinator = CoordinatorToClient(message) != nil || CoordinatorToWorker(message) != nil
            #expect(fromCoordinator == (afterHandshake && type.senders.contains(.coordinator)), "\(name)")
        }
        #expect(seen.count == FrameType.allCases.count, "the golden vectors cover every frame type")
    }

    @Test("a link's own messages go one way only: requests to the coordinator, tasks to workers, results to clients")
    func oneWay() {
        for (_, frame) in GoldenFrames.frames {
            let message = frame.message
            switch message.frameType {
            case .submit, .cancel, .statusRequest, .watch, .fetch, .jobsRequest, .usageRequest, .workersRequest,
                .statsRequest:
                #expect(CoordinatorToClient(message) == nil && CoordinatorToWorker(message) == nil)
            case .assign, .assignObject, .cancelTask, .registered:
                #expect(CoordinatorToWorker(message) != nil && CoordinatorToClient(message) == nil)
            case .accepted, .rejected, .jobDone, .jobFailed, .status, .workers, .stats, .jobList, .usage:
                #expect(CoordinatorToClient(message) != nil && CoordinatorToWorker(message) == nil)
            case .register, .heartbeat, .taskDone, .taskFailed, .variantStored:
                #expect(WorkerToCoordinator(message) != nil && ClientToCoordinator(message) == nil)
            case .hello, .auth, .authOK, .ping, .pong, .goAway, .chunk, .variant, .drain:
                continue
            }
        }
    }
}
