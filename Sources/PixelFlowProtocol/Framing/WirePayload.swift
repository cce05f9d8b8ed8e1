import NIOCore

/// A message body: how it reads from and writes to a frame payload. One type per frame type, one per file.
public protocol WirePayload: Sendable, Hashable {
    static var frameType: FrameType { get }
    /// Reads the fields in order. The caller rejects any bytes left over afterwards.
    init(from buffer: inout ByteBuffer) throws(ProtocolError)
    func write(to buffer: inout ByteBuffer)
}

/// A payload with no fields.
public protocol EmptyWirePayload: WirePayload {
    init()
}

extension EmptyWirePayload {
    public init(from buffer: inout ByteBuffer) throws(ProtocolError) { self.init() }
    public func write(to buffer: inout ByteBuffer) {}
}
