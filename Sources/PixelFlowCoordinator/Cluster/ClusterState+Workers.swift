import NIOCore
import PixelFlowProtocol

extension ClusterState {
    public mutating func registerWorker(
        name: String, address: String, slots: Int, formats: OutputFormats, now: NIODeadline
    ) -> (WorkerID, [ClusterAction]) {
        let id = nextWorkerID
        nextWorkerID += 1
        workers[id] = WorkerRecord(
            id: id, name: name, address: address, slots: max(0, slots), formats: formats, lastHeartbeat: now)
        return (id, dispatch(now: now))
    }

    /// Renews the leases of the current attempts the worker lists, and forgets given-up attempts it no longer holds.
    public mutating func heartbeat(
        worker id: WorkerID, tasks: [Heartbeat.HeldTask], freeSlots: Int? = nil, now: NIODeadline
    ) -> [ClusterAction] {
        guard var worker = workers[id] else { return [] }
        worker.lastHeartbeat = now
        // PROTOCOL.md §10.4: capacity is min(slots, held + free) as the worker last reported it.
        if let freeSlots { worker.reportedCapacity = tasks.count + freeSlots }
        let listed = Set(tasks)
        let renewed = now + settings.lease
        for task in worker.held.keys {
            let current =
                jobs[task.taskID].map { $0.state == .running && $0.worker == id && $0.attempt == task.attempt } ?? false
            if current {
                // The timeline keeps one entry per attempt: tick reschedules it when it comes due early.
                if listed.contains(task) { jobs[task.taskID]?.leaseExpiry = renewed }
            } else if !listed.contains(task) {
                worker.held.removeValue(forKey: task)
            }
        }
        workers[id] = worker
        return dispatch(now: now)
    }

    /// The worker takes no new tasks (DRAIN); what it holds finishes normally.
    public mutating func drain(worker id: WorkerID) {
        workers[id]?.draining = true
    }

    /// The worker's connection has more queued towards it than its budget: assign it nothing until it drains.
    public mutating func workerCongested(_ id: WorkerID, _ congested: Bool, now: NIODeadline) -> [ClusterAction] {
        guard workers[id] != nil, workers[id]?.congested != congested else { return [] }
        workers[id]?.congested = congested
        return congested ? [] : dispatch(now: now)
    }

    /// The worker's connection closed: every job it was running goes back to the queue at once.
    public mutating func workerLost(_ id: WorkerID, now: NIODeadline) -> [ClusterAction] {
        guard let worker = workers.removeValue(forKey: id) else { return [] }
        var actions: [ClusterAction] = []
        for task in worker.held.keys
        where jobs[task.taskID].map({ $0.worker == id && $0.attempt == task.attempt }) ?? false {
            actions += requeue(task.taskID, reason: "the worker's connection closed", now: now)
        }
        return actions + dispatch(now: now)
    }

    public var workerCount: Int { workers.count }

    /// True while some worker could take a task: what `/readyz` reports.
    public var hasCapacity: Bool { workers.values.contains { $0.capacity > 0 } }

    /// WORKERS as a tenant sees it: addresses only for an operator key (PROTOCOL.md §6.2).
    public func workerList(now: NIODeadline, showAddresses: Bool = true) -> [WorkerList.Worker] {
        workers.values.sorted { $0.id < $1.id }.map { worker in
            WorkerList.Worker(
                name: worker.name, address: showAddresses ? worker.address : "", slots: UInt16(clamping: worker.slots),
                busy: UInt16(clamping: worker.held.count), done: worker.done, failed: worker.failed,
                lastHeartbeatMillisecondsAgo: UInt32(
                    clamping: max(0, (now - worker.lastHeartbeat).nanoseconds) / 1_000_000))
        }
    }

    public var stats: Stats {
        var total = totals
        total.queued = UInt32(clamping: waitingJobs)
        total.running = UInt32(clamping: tenants.values.reduce(0) { $0 + $1.running })
        let perTenant = tenants.values.sorted { $0.policy.keyID < $1.policy.keyID }.map { tenant in
            var counters = tenant.counters
            counters.queued = UInt32(clamping: tenant.waiting)
            counters.running = UInt32(clamping: tenant.running)
            return Stats.Tenant(name: tenant.policy.keyID, counters: counters)
        }
        return Stats(total: total, workers: UInt16(clamping: workers.count), tenants: perTenant)
    }
}
