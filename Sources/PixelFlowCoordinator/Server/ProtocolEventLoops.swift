import NIOCore
import NIOPosix
import PixelFlowLocking

/// The protocol port's event loops: NIO's shared singleton when `event_loops` is its size (the default, one per
/// core: no second set of threads), else one group per thread count for the whole process, made on first use and
/// never shut down like the singleton, so coordinators started and stopped in one process (tests, `pixelflow dev`)
/// share them instead of each leaving threads behind.
enum ProtocolEventLoops {
    private static let groups = Locked<[Int: MultiThreadedEventLoopGroup]>([:])

    static func group(threads: Int) -> MultiThreadedEventLoopGroup {
        if threads == NIOSingletons.groupLoopCountSuggestion { return .singleton }
        return groups.withLock { groups in
            if let group = groups[threads] { return group }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
            groups[threads] = group
            return group
        }
    }
}
