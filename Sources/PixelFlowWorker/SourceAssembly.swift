import NIOCore
import PixelFlowProtocol

/// A task's source arriving chunk by chunk, held to its declared size.
struct SourceAssembly {
    let assign: Assign
    private(set) var bytes: [UInt8] = []

    /// Reserves the declared size up front, but never more than `reserveLimit` on the word of a header.
    init(assign: Assign, reserveLimit: Int) {
        self.assign = assign
        bytes.reserveCapacity(min(Int(clamping: assign.sourceSize), reserveLimit))
    }

    /// Adds a chunk; returns true when the source is complete.
    mutating func add(_ chunk: Chunk) throws(ProtocolError) -> Bool {
        var data = try chunk.decoded()
        guard UInt64(bytes.count + data.readableBytes) <= assign.sourceSize else {
            throw ProtocolError.malformed("task \(assign.taskID) sent more than its declared \(assign.sourceSize) source bytes")
        }
        bytes += data.readBytes(length: data.readableBytes) ?? []
        guard chunk.isLast else { return false }
        guard UInt64(bytes.count) == assign.sourceSize else {
            throw ProtocolError.malformed("task \(assign.taskID) ended its source at \(bytes.count) of \(assign.sourceSize) bytes")
        }
        return true
    }
}
