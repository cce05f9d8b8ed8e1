import PixelFlowProtocol

extension PixelFlowClient {
    /// Connects and authenticates, returning a client that stays connected until ``close()``: for services whose
    /// client outlives any one scope. Where a scope fits, prefer
    /// ``withConnection(to:port:keyID:secret:configuration:_:)``, which closes by itself.
    ///
    /// - Throws: ``PixelFlowClientError``, as ``withConnection(to:port:keyID:secret:configuration:_:)`` does:
    ///   ``PixelFlowClientError/Code/connectionLost``, ``PixelFlowClientError/Code/unauthorized``,
    ///   ``PixelFlowClientError/Code/timeout``.
    public static func connect(
        to host: String, port: Int, keyID: String, secret: String, configuration: Configuration = Configuration()
    ) async throws -> PixelFlowClient {
        let (opened, sink) = AsyncThrowingStream<PixelFlowClient, any Error>.makeStream()
        // The connection's loops must run in a task that outlives this call; it is the client's, ended by close().
        let lifetime = Task {
            do {
                try await withConnection(
                    to: host, port: port, keyID: keyID, secret: secret, configuration: configuration
                ) { client in
                    sink.yield(client)
                    for await _ in client.closeRequested {}
                }
                sink.finish()
            } catch {
                sink.finish(throwing: error)
            }
        }
        for try await client in opened {
            client.lifetime.withLock { $0 = lifetime }
            return client
        }
        throw PixelFlowClientError.connectionLost("the connection closed during the handshake")
    }

    /// Closes a client opened with ``connect(to:port:keyID:secret:configuration:)``: requests still pending fail
    /// with ``PixelFlowClientError/Code/connectionLost``. Returns once the connection is closed. Does nothing inside
    /// ``withConnection(to:port:keyID:secret:configuration:_:)``, which closes when its closure returns.
    public func close() async {
        guard let lifetime = lifetime.withLock({ $0 }) else { return }
        closeRequestedSink.finish()
        await lifetime.value
    }
}
