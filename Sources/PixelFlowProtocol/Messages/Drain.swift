import NIOCore

/// DRAIN (stream 0). From a worker: it takes no new tasks and finishes what it holds. From the coordinator:
/// finish what you hold within `deadline_ms`, then close; take nothing new. `deadline_ms u32` (0 = no deadline).
public struct Drain: WirePayload {
    public static let frameType = FrameType.drain
    public var deadlineMilliseconds: UInt32
    public init(deadlineMilliseconds: UInt32) { self.deadlineMilliseconds = deadlineMilliseconds }
    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        deadlineMilliseconds = try buffer.readField(UInt32.self, "deadline_ms")
    }
    public func write(to buffer: inout ByteBuffer) { buffer.writeInteger(deadlineMilliseconds) }
}
