import PixelFlowLocking

/// The client's current connection, replaced when a lost one is reconnected. Requests take the current one, and
/// after losing it wait for the next (`connection(newerThan:)`) until the client gives up or is closed.
final class ConnectionHolder: Sendable {
    private struct State {
        var connection: ClientConnection?
        var closeChannel: (@Sendable () -> Void)?
        /// Bumped on every new connection: a request retries only on a connection newer than the one it lost.
        var generation = 0
        var waiters: [UInt64: CheckedContinuation<(ClientConnection, Int), any Error>] = [:]
        var nextToken: UInt64 = 0
        /// Set for good: the client closed, or reconnecting gave up.
        var failure: PixelFlowClientError?
        var isClosing = false
    }

    private let state = Locked(State())
    let reconnects: Bool

    init(reconnects: Bool) { self.reconnects = reconnects }

    /// The connection in use, or the last one (for the session's limits while reconnecting).
    var latest: ClientConnection? { state.withLock { $0.connection } }

    var isClosing: Bool { state.withLock { $0.isClosing } }

    /// A new connection is established: waiting requests go on with it.
    func install(_ connection: ClientConnection, closeChannel: @escaping @Sendable () -> Void) {
        let waiters = state.withLock { state in
            state.connection = connection
            state.closeChannel = closeChannel
            state.generation += 1
            defer { state.waiters.removeAll() }
            return (state.waiters.values, state.generation)
        }
        for waiter in waiters.0 { waiter.resume(returning: (connection, waiters.1)) }
    }

    /// No connection will come any more: waiters fail with `error`, and so will later requests.
    func fail(_ error: PixelFlowClientError) {
        let waiters = state.withLock { state in
            state.failure = state.failure ?? error
            defer { state.waiters.removeAll() }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    /// The client is closing: no reconnection; the current connection is closed by the caller (`closeChannel`
    /// drops it at once, if the coordinator stops reading).
    func beginClosing() -> (connection: ClientConnection, closeChannel: @Sendable () -> Void)? {
        state.withLock { state in
            state.isClosing = true
            guard let connection = state.connection, let closeChannel = state.closeChannel else { return nil }
            return (connection, closeChannel)
        }
    }

    /// The current connection, or the next one if `generation` names the current (a request lost it).
    func connection(newerThan generation: Int = 0) async throws(PixelFlowClientError) -> (ClientConnection, Int) {
        // The common case, every request while connected: no continuation, no cancellation handler.
        let current: (ClientConnection, Int)? = state.withLock { state in
            guard state.failure == nil, let connection = state.connection, state.generation > generation else {
                return nil
            }
            return (connection, state.generation)
        }
        if let current { return current }
        let token = state.withLock { state in
            state.nextToken += 1
            return state.nextToken
        }
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    let ready: Result<(ClientConnection, Int), PixelFlowClientError>? = state.withLock { state in
                        if let failure = state.failure { return .failure(failure) }
                        if let connection = state.connection, state.generation > generation {
                            return .success((connection, state.generation))
                        }
                        guard reconnects, !state.isClosing else {
                            return .failure(.connectionLost("the connection to the coordinator was lost"))
                        }
                        if Task.isCancelled { return .failure(.cancelledByTask) }
                        state.waiters[token] = continuation
                        return nil
                    }
                    if let ready { continuation.resume(with: ready) }
                }
            } onCancel: {
                state.withLock { $0.waiters.removeValue(forKey: token) }?.resume(
                    throwing: PixelFlowClientError.cancelledByTask)
            }
        } catch {
            throw ClientConnection.typed(error)
        }
    }
}
