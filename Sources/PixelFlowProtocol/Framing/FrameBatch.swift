import NIOCore

/// Frames encoded into one buffer per flush instead of one per frame: many small control frames (a job's VARIANT
/// header, its chunk, TASK_DONE) then cost one allocation and one socket write between them. Chunk data of
/// `copyLimit` bytes or more is not copied into the batch: it leaves as a buffer of its own, in order.
public struct FrameBatch {
    /// Chunk data at least this large is written as it is, not copied.
    public static let copyLimit = 16 * 1024
    private var pending: ByteBuffer?

    public init() {}

    /// Encodes `element` after what is pending; `emit` gets, in order, what must be written before anything
    /// appended later (the pending bytes and the large chunk data that follows them).
    public mutating func append(
        _ element: WireElement, allocator: ByteBufferAllocator, emit: (ByteBuffer) -> Void
    ) {
        // Taken out first, so appending never copies (a second reference would force copy-on-write).
        var buffer = pending ?? allocator.buffer(capacity: 4096)
        pending = nil
        if case .frame(let frame) = element, case .chunk(let chunk) = frame.message,
            chunk.data.readableBytes >= Self.copyLimit
        {
            frame.writeHead(of: chunk, to: &buffer)
            emit(buffer)
            emit(chunk.data)
            return
        }
        element.write(to: &buffer)
        pending = buffer
    }

    /// The bytes waiting for the next flush, if any; the batch is empty afterwards.
    public mutating func take() -> ByteBuffer? {
        defer { pending = nil }
        return pending
    }
}
