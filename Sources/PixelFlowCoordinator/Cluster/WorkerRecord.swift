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
    /// cancelled) until the worker reports them ended: they still occupy a slot on the worker.
    var held: Set<Heartbeat.HeldTask> = []
    var draining = false
    var done: UInt64 = 0
    var failed: UInt64 = 0
    var lastHeartbeat: NIODeadline

    var freeSlots: Int { draining ? 0 : max(0, slots - held.count) }
}
