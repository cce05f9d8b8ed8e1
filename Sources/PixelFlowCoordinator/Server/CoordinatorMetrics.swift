import Synchronization

/// Counters the state machine does not keep: bytes on the wire, connections, handshake failures.
final class CoordinatorMetrics: Sendable {
    let bytesIn = Atomic<UInt64>(0)
    let bytesOut = Atomic<UInt64>(0)
    let connectionsOpened = Atomic<UInt64>(0)
    let handshakeFailures = Atomic<UInt64>(0)
    let protocolErrors = Atomic<UInt64>(0)

    init() {}
}
