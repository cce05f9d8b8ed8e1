import NIOCore
import PixelFlowProtocol

/// A registered worker as the scheduler sees it.
struct WorkerRecord: Sendable {
    var id: WorkerID
    var name: String
    var address: String
    var slots: Int
    var formats: OutputFormats
    /// Tasks the worker holds, with their attempt. Includes attempts the coordinator gave up on (lease expired,
    /// cancelled) until the worker reports them ended: they still occupy a slot on the worker. Each with its
    /// job's tenant, who is metered for the task's usage even when the job has ended meanwhile.
    var held: [Heartbeat.HeldTask: String] = [:]
    var draining = false
    /// `held + free_slots` from the latest HEARTBEAT; nil before the first one.
    var reportedCapacity: Int?
    /// Its connection is over its outbound byte budget (it is not reading its sources).
    var congested = false
    var done: UInt64 = 0
    var failed: UInt64 = 0
    var lastHeartbeat: NIODeadline

    /// Tasks it can run at once now (PROTOCOL.md §10.4).
    var capacity: Int { draining || congested ? 0 : min(slots, reportedCapacity ?? slots) }

    var freeSlots: Int { max(0, capacity - held.count) }
}
