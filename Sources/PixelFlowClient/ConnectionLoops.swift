import NIOCore
import PixelFlowProtocol

/// The two child tasks of a connection: the writer drains the outbound queue; the reader runs the handshake,
/// then hands every frame to the connection, and fails whatever is pending when the link ends.
enum ConnectionLoops {
    static func write(
        _ queue: OutboundQueue, to outbound: NIOAsyncChannelOutboundWriter<WireElement>, channel: any Channel
    ) async {
        while let batch = await queue.nextBatch() {
            do {
                try await outbound.write(contentsOf: batch.map(\.element))
                for item in batch { item.written?.resume() }
            } catch {
                let lost = PixelFlowClientError.connectionLost("writing to the coordinator failed: \(error)")
                for item in batch { item.written?.resume(throwing: lost) }
                queue.close(lost, discardPending: true)
            }
        }
        // Everything queued (a closing GOAWAY included) is written: the connection is done.
        channel.close(promise: nil)
    }

    static func read(
        _ inbound: NIOAsyncChannelInboundStream<WireElement>, queue: OutboundQueue,
        handshake: ClientHandshakeStateMachine, configuration: PixelFlowClient.Configuration, channel: any Channel,
        established: AsyncThrowingStream<ClientConnection, any Error>.Continuation
    ) async {
        var iterator = inbound.makeAsyncIterator()
        let connection: ClientConnection
        do {
            connection = try await authenticate(
                &iterator, queue: queue, handshake: handshake, configuration: configuration, channel: channel)
        } catch {
            established.finish(throwing: error)
            return
        }
        established.yield(connection)
        established.finish()

        var ending = PixelFlowClientError.connectionLost("the coordinator closed the connection")
        var goAway: GoAway?
        do {
            while let element = try await iterator.next() {
                guard case .frame(let frame) = element else {
                    ending = PixelFlowClientError(wire: .protocolError, message: "second preface from the coordinator")
                    goAway = GoAway(code: .protocolError, message: ending.message)
                    break
                }
                if let failure = connection.receive(frame) {
                    ending = failure.error
                    if failure.sendGoAway {
                        goAway = GoAway(code: failure.error.wireCode ?? .none, message: failure.error.message)
                    }
                    break
                }
            }
        } catch let error as ProtocolError {
            // The decoder refused the coordinator's bytes: a connection error we report with GOAWAY.
            ending = PixelFlowClientError(error)
            goAway = GoAway(error)
        } catch {
            ending = .connectionLost("the connection failed: \(error)")
        }
        connection.close(ending, goAway: goAway)
        if goAway == nil { channel.close(promise: nil) }
    }

    /// Preface, HELLO, AUTH, AUTH_OK with the coordinator's proof verified, within the handshake timeout: the
    /// worker's path too (`CoordinatorLink.authenticate`); the handshake's frames go out through the queue.
    private static func authenticate(
        _ iterator: inout NIOAsyncChannelInboundStream<WireElement>.AsyncIterator, queue: OutboundQueue,
        handshake: ClientHandshakeStateMachine, configuration: PixelFlowClient.Configuration, channel: any Channel
    ) async throws(PixelFlowClientError) -> ClientConnection {
        do {
            let session = try await CoordinatorLink.authenticate(
                handshake, frames: &iterator, channel: channel, acceptedLimits: configuration.receiveLimits.wire,
                timeout: TimeAmount(configuration.handshakeTimeout)
            ) { elements in
                for element in elements { queue.enqueue(element) }
            }
            return ClientConnection(session: session, queue: queue)
        } catch let error as ProtocolError where error.code == .frameTooLarge {
            throw PixelFlowClientError(ProtocolError(error.code, error.message + "; raise Configuration.receiveLimits"))
        } catch {
            throw ClientConnection.typed(error)
        }
    }
}
