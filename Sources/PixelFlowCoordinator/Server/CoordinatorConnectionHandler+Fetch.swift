import NIOCore
import PixelFlowProtocol

/// FETCH, sent as it is read: one stored variant at a time, so a FETCH of large results holds at most one variant
/// in memory beyond what its connection has queued.
extension CoordinatorConnectionHandler {
    /// Reads the job's stored variants in order and sends each as soon as it is read. The next one is read only
    /// once this connection has sent the previous one down to `max_outbound_bytes`, and each read holds its bytes
    /// in the coordinator's FETCH budget (`max_fetch_bytes`) until then. Then the outcome, or REJECTED when the
    /// store cannot give a variant back (the ones sent before it are good).
    static func fetch(
        _ job: JobID, tenant: String, on stream: UInt32, handler me: NIOLoopBound<CoordinatorConnectionHandler>,
        eventLoop: any EventLoop, coordinator: Coordinator
    ) async {
        let end: Result<Message, ProtocolError>
        switch await coordinator.storedResult(of: job, tenant: tenant) {
        case .failure(let error):
            end = .failure(error)
        case .success(let stored):
            end = await sendVariants(
                stored, of: job, on: stream, handler: me, eventLoop: eventLoop, coordinator: coordinator)
        }
        eventLoop.execute {
            me.value.run(me.value.machine.storedResultEnded(job, on: stream, end))
            me.value.scheduleFlush()
        }
    }

    private static func sendVariants(
        _ stored: StoredResult, of job: JobID, on stream: UInt32,
        handler me: NIOLoopBound<CoordinatorConnectionHandler>,
        eventLoop: any EventLoop, coordinator: Coordinator
    ) async -> Result<Message, ProtocolError> {
        let budget = coordinator.fetchBudget
        for variant in stored.variants {
            let held = await budget.acquire(variant.size)
            let bytes: ByteBuffer
            switch await coordinator.storedVariantBytes(variant) {
            case .success(let read):
                bytes = read
            case .failure(let error):
                budget.release(held)
                return .failure(error)
            }
            let isOpen = try? await eventLoop.submit { () -> Bool in
                let handler = me.value
                guard handler.context != nil, handler.machine.isFetching(job, on: stream) else { return false }
                handler.run(handler.machine.storedVariantRead(job, on: stream, variant.header, bytes))
                handler.flush()
                return true
            }.get()
            await waitUntilSent(handler: me, eventLoop: eventLoop, below: coordinator.settings.maxOutboundBytes)
            budget.release(held)
            // The client went away or cancelled: the rest is not read.
            guard isOpen == true else { return .failure(ProtocolError(.cancelled, "the FETCH is no longer open")) }
        }
        return .success(stored.outcome)
    }

    /// Returns once the connection has no more than `limit` bytes queued, or has closed. A peer that stops reading
    /// is disconnected by `write_stall_timeout_ms`, which ends this wait too.
    private static func waitUntilSent(
        handler me: NIOLoopBound<CoordinatorConnectionHandler>, eventLoop: any EventLoop, below limit: UInt64
    ) async {
        while true {
            let queued = try? await eventLoop.submit { () -> UInt64? in
                me.value.context == nil ? nil : me.value.output.buffered
            }.get()
            guard let queued = queued ?? nil, queued > limit else { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
