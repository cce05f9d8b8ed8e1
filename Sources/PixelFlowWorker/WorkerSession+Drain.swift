import NIOCore
import PixelFlowProtocol

/// Draining: on the worker's own SIGTERM (then it exits) or on the coordinator's DRAIN (then it reconnects).
extension WorkerSession {
    enum DrainReason {
        /// SIGTERM: drain, then the process exits.
        case shutdown
        /// DRAIN from the coordinator: drain within its deadline (0: none), close, and connect again
        /// (PROTOCOL.md §10.6).
        case coordinatorAsked(deadlineMilliseconds: UInt32)
    }

    /// Takes no new tasks, lets the running ones finish (up to the drain timeout), then says goodbye.
    func drain(
        _ state: WorkerSessionState, _ outbound: Outbound, _ channel: any Channel, reason: DrainReason
    ) async throws {
        guard state.startDraining() else { return }
        let timeout: TimeAmount
        switch reason {
        case .shutdown:
            timeout = config.drainTimeout
            try await outbound.write(
                .frame(Frame(.drain(Drain(deadlineMilliseconds: config.drainTimeout.milliseconds)))))
        case .coordinatorAsked(let deadline):
            timeout = deadline > 0 ? .milliseconds(Int64(deadline)) : config.drainTimeout
        }
        try await outbound.write(.frame(Frame(.heartbeat(state.heartbeat))))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await state.idle() }
            group.addTask { try? await Task.sleep(for: .nanoseconds(timeout.nanoseconds)) }
            await group.next()
            group.cancelAll()
        }
        // Whatever still runs is handed back: the coordinator requeues it when the connection closes.
        let code: ErrorCode = state.runningCount == 0 ? .none : .shuttingDown
        try await outbound.write(.frame(Frame(.goAway(GoAway(code: code, message: "worker \(config.name) drained")))))
        try? await channel.close()  // ends the inbound loop too
        switch reason {
        case .shutdown: throw End.drained
        case .coordinatorAsked: throw End.drainedForCoordinator
        }
    }
}
