import Logging
import NIOCore
import NIOPosix
import PixelFlowImaging
import PixelFlowObjects
import PixelFlowProtocol
import PixelFlowTLS

/// A worker process's life: connect, serve, and on a lost connection reconnect with backoff, until drained.
public struct WorkerNode: Sendable {
    public let config: WorkerConfig
    public let shutdown: ShutdownSignal
    private let runner: any TaskRunner

    public init(config: WorkerConfig, shutdown: ShutdownSignal = ShutdownSignal()) {
        self.config = config
        self.shutdown = shutdown
        if config.nullEngine {
            runner = NullTaskRunner(variantBytes: config.nullVariantBytes, work: config.nullWork)
        } else {
            runner = ImagingTaskRunner(engine: ImagingEngine(threads: config.slots, limits: config.imagingLimits))
        }
    }

    /// Returns when the worker has drained after `shutdown` fired.
    public func run(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "pixelflow.worker")
    ) async {
        var logger = logger
        logger[metadataKey: "worker"] = "\(config.name)"
        var delay = config.reconnectDelay
        while !shutdown.isFired {
            do {
                try await WorkerSession(
                    config: config, runner: runner, shutdown: shutdown,
                    transfer: PresignedTransfer(timeout: config.objectTimeout)
                ).run(group: group)
                if !shutdown.isFired { logger.info("the coordinator closed the connection; connecting again") }
                delay = config.reconnectDelay
            } catch WorkerSession.End.drained {
                logger.info("drained, exiting")
                return
            } catch WorkerSession.End.drainedForCoordinator {
                logger.info("drained at the coordinator's request; connecting again")
                delay = config.reconnectDelay
            } catch {
                logger.warning(
                    "connection to the coordinator ended: \(TLSDiagnosis.describe(error) ?? "\(error)"); retrying in \(delay.milliseconds) ms",
                    metadata: ["coordinator": "\(config.coordinatorHost):\(config.coordinatorPort)"])
            }
            guard !shutdown.isFired else { return }
            let jitter = Int64.random(in: 0...(delay.nanoseconds / 4))
            await sleepUnlessShutdown(.nanoseconds(delay.nanoseconds + jitter))
            delay = min(config.maxReconnectDelay, delay * 2)
        }
    }

    private func sleepUnlessShutdown(_ delay: TimeAmount) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: .nanoseconds(delay.nanoseconds)) }
            group.addTask { await shutdown.wait() }
            await group.next()
            group.cancelAll()
        }
    }
}
