import PixelFlowProtocol

/// A worker registered with the coordinator, as ``PixelFlowClient/workers()`` lists it.
public struct WorkerInfo: Sendable, Hashable {
    /// The name the worker registered with.
    public var name: String
    /// Where the worker connects from (`host:port`); empty for tenants that may not see addresses.
    public var address: String
    /// Jobs the worker runs at once.
    public var slots: Int
    /// Slots busy right now.
    public var busy: Int
    /// Tasks the worker completed.
    public var done: Int
    /// Tasks that failed on the worker.
    public var failed: Int
    /// Time since the worker's last heartbeat reached the coordinator.
    public var lastHeartbeatMillisecondsAgo: Int

    /// Makes a worker entry, e.g. for a test double of code that handles one.
    public init(
        name: String, address: String, slots: Int, busy: Int, done: Int, failed: Int, lastHeartbeatMillisecondsAgo: Int
    ) {
        self.name = name
        self.address = address
        self.slots = slots
        self.busy = busy
        self.done = done
        self.failed = failed
        self.lastHeartbeatMillisecondsAgo = lastHeartbeatMillisecondsAgo
    }

    init(wire worker: WorkerList.Worker) {
        self.init(
            name: worker.name, address: worker.address, slots: Int(worker.slots), busy: Int(worker.busy),
            done: Int(clamping: worker.done), failed: Int(clamping: worker.failed),
            lastHeartbeatMillisecondsAgo: Int(worker.lastHeartbeatMillisecondsAgo))
    }
}
