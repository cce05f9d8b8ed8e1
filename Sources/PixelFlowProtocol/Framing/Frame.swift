import NIOCore

/// A message on a stream: what the codec reads from and writes to the wire.
public struct Frame: Sendable, Hashable {
    /// 0 for connection frames; otherwise the request, job or task the frame belongs to.
    public var streamID: UInt32
    public var message: Message

    public init(stream streamID: UInt32, _ message: Message) {
        self.streamID = streamID
        self.message = message
    }

    /// A connection frame (stream 0).
    public init(_ message: Message) {
        self.init(stream: 0, message)
    }

    /// Writes header and payload; the length is filled in once the payload is written.
    public func write(to buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        FrameHeader(length: 0, type: message.frameType.rawValue, flags: message.flags, streamID: streamID).write(
            to: &buffer)
        let payloadStart = buffer.writerIndex
        message.writePayload(to: &buffer)
        buffer.setInteger(UInt32(buffer.writerIndex - payloadStart), at: start)
    }

    /// A CHUNK frame's header and decoded-size prefix, without its data: the data follows as its own buffer.
    func writeHead(of chunk: Chunk, to buffer: inout ByteBuffer) {
        let prefix = chunk.codec == .none ? 0 : Chunk.compressedPrefixSize
        FrameHeader(
            length: UInt32(prefix + chunk.data.readableBytes), type: FrameType.chunk.rawValue, flags: chunk.flags,
            streamID: streamID
        )
        .write(to: &buffer)
        if chunk.codec != .none { buffer.writeInteger(UInt32(chunk.decodedSize)) }
    }

    /// The frame's bytes, for tests, vectors and tools.
    public var bytes: ByteBuffer {
        var buffer = ByteBuffer()
        write(to: &buffer)
        return buffer
    }

    /// Checks that a frame may be sent by one of the roles in `senderBits` and sits on the right kind of stream.
    static func validate(type: FrameType, streamID: UInt32, from senderBits: UInt8) throws(ProtocolError) {
        guard type.senderBits & senderBits != 0 else {
            let senders = PeerRole.allCases.filter { senderBits & $0.bit != 0 }
            throw ProtocolError(
                .wrongRole,
                "\(type) may not be sent by a \(senders.map(\.description).sorted().joined(separator: " or "))")
        }
        if type.isConnectionFrame && streamID != 0 {
            throw ProtocolError.malformed("\(type) must be sent on stream 0, got stream \(streamID)")
        }
        if !type.isConnectionFrame && streamID == 0 {
            throw ProtocolError.malformed("\(type) must be sent on a non-zero stream")
        }
    }
}
