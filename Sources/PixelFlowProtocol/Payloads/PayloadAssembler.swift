import NIOCore

/// A payload (source image or variant) arriving as CHUNKs, decoded as it comes into one buffer of exactly the
/// declared size. Memory is at most the declared size whatever the chunking, and a chunk that does not decode is caught
/// where it arrives instead of being passed on.
public struct PayloadAssembler: Sendable {
    public let expected: Int
    public private(set) var bytes: ByteBuffer

    /// Allocated up front on the word of a header, at most: memory then follows what arrives.
    public static let initialReserve = 1 << 20

    /// `expected` must already be within the receiver's limit for this kind of payload. At most `reserveLimit`
    /// bytes are allocated before any arrive; the buffer then doubles as chunks come, never past `expected`.
    public init(expected: Int, reserveLimit: Int = PayloadAssembler.initialReserve) {
        self.expected = expected
        self.bytes = ByteBuffer()
        bytes.reserveCapacity(min(expected, reserveLimit))
    }

    public var received: Int { bytes.readableBytes }

    /// Adds a chunk; returns true once the payload is complete (its END chunk arrived).
    public mutating func add(_ chunk: Chunk) throws(ProtocolError) -> Bool {
        guard chunk.isLast || chunk.decodedSize > 0 else {
            throw ProtocolError.malformed("an empty CHUNK that is not the last of its payload")
        }
        guard received + chunk.decodedSize <= expected else {
            throw ProtocolError.malformed("chunks add up to more than the declared \(expected) bytes")
        }
        var data = try chunk.decoded()
        if bytes.writableBytes < data.readableBytes {
            // Memory follows what arrives: doubling, but never past the declared size.
            bytes.reserveCapacity(min(expected, max(bytes.capacity * 2, received + data.readableBytes)))
        }
        bytes.writeBuffer(&data)
        guard chunk.isLast else { return false }
        guard received == expected else {
            throw ProtocolError.malformed("the payload ended at \(received) of its declared \(expected) bytes")
        }
        return true
    }

    /// The payload as raw chunks of at most `size` bytes, the last flagged END: slices, not copies.
    public static func chunks(of bytes: ByteBuffer, size: Int) -> [Chunk] {
        var chunks: [Chunk] = []
        var offset = 0
        repeat {
            let length = min(size, bytes.readableBytes - offset)
            let piece = bytes.getSlice(at: bytes.readerIndex + offset, length: length)!
            offset += length
            chunks.append(Chunk(raw: piece, isLast: offset == bytes.readableBytes))
        } while offset < bytes.readableBytes
        return chunks
    }
}
