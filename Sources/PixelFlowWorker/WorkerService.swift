import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A worker as a lifecycle `Service`: connected (and reconnecting) until the group's graceful shutdown, which
/// drains it — no new tasks, running ones finish within the drain timeout or go back to the coordinator.
public struct WorkerService: Service {
    public let node: WorkerNode
    private let group: any EventLoopGroup
    private let logger: Logger

    public init(
        node: WorkerNode, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "pixelflow.worker")
    ) {
        self.node = node
        self.group = group
        self.logger = logger
    }

    public func run() async {
        let node = self.node
        await withGracefulShutdownHandler {
            await node.run(group: group, logger: logger)
        } onGracefulShutdown: {
            node.shutdown.fire()
        }
    }
}
