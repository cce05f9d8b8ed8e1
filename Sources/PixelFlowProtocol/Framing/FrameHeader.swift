import NIOCore

/// The fixed 12-byte header in front of every frame, big-endian (proto/PROTOCOL.md §4):
/// `length u32 · type u8 · flags u8 · reserved u16 (0) · stream u32`. `length` counts the payload only.
public struct FrameHeader: Sendable, Hashable {
    public static let size = 12

    public var length: UInt32
    public var type: UInt8
    public var flags: UInt8
    public var streamID: UInt32

    public init(length: UInt32, type: UInt8, flags: UInt8, streamID: UInt32) {
        self.length = length
        self.type = type
        self.flags = flags
        self.streamID = streamID
    }

    /// Reads a header at the reader index without consuming anything; nil when fewer than 12 bytes are buffered.
    static func peek(in buffer: ByteBuffer) throws(ProtocolError) -> FrameHeader? {
        let start = buffer.readerIndex
        guard buffer.readableBytes >= size,
            let length = buffer.getInteger(at: start, as: UInt32.self),
            let type = buffer.getInteger(at: start + 4, as: UInt8.self),
            let flags = buffer.getInteger(at: start + 5, as: UInt8.self),
            let reserved = buffer.getInteger(at: start + 6, as: UInt16.self),
            let streamID = buffer.getInteger(at: start + 8, as: UInt32.self)
        else { return nil }
        guard reserved == 0 else {
            throw ProtocolError.malformed("reserved header bytes are \(reserved), must be 0")
        }
        return FrameHeader(length: length, type: type, flags: flags, streamID: streamID)
    }

    func write(to buffer: inout ByteBuffer) {
        // One capacity check and one store sequence for the 12 bytes, not five.
        buffer.writeMultipleIntegers(length, type, flags, UInt16(0), streamID)
    }
}
