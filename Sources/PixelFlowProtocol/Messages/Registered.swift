import NIOCore

/// REGISTERED (coordinator → worker, stream 0): `worker_id u64`. Assignments may follow at once.
public struct Registered: WirePayload {
    public static let frameType = FrameType.registered
    public var workerID: UInt64
    public init(workerID: UInt64) { self.workerID = workerID }
    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        workerID = try buffer.readField(UInt64.self, "worker_id")
    }
    public func write(to buffer: inout ByteBuffer) { buffer.writeInteger(workerID) }
}
