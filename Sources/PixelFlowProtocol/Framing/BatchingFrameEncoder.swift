import NIOCore

/// Encodes frames into one buffer per flush instead of one per frame: many small control frames (a job's
/// VARIANT header, its chunk, TASK_DONE) then cost one allocation and one socket write between them.
public final class BatchingFrameEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = WireElement
    public typealias OutboundOut = ByteBuffer

    /// Chunk data at least this large is written as it is, not copied.
    static let copyLimit = 16 * 1024
    private var pending: ByteBuffer?
    private var promises: [EventLoopPromise<Void>] = []

    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Take the buffer out first, so appending to it never copies (a second reference would force copy-on-write).
        var buffer = pending ?? context.channel.allocator.buffer(capacity: 4096)
        pending = nil
        switch unwrapOutboundIn(data) {
        case .preface(let preface):
            preface.write(to: &buffer)
        case .frame(let frame):
            if case .chunk(let chunk) = frame.message, chunk.data.readableBytes >= Self.copyLimit {
                // Large image bytes go out as their own buffer rather than being copied into the batch.
                frame.writeHead(of: chunk, to: &buffer)
                context.write(wrapOutboundOut(buffer), promise: nil)
                context.write(wrapOutboundOut(chunk.data), promise: nil)
                buffer = context.channel.allocator.buffer(capacity: 4096)
            } else {
                frame.write(to: &buffer)
            }
        }
        pending = buffer
        if let promise { promises.append(promise) }
    }

    public func flush(context: ChannelHandlerContext) {
        if let buffer = pending {
            pending = nil
            let waiting = promises
            promises = []
            if waiting.isEmpty {
                context.write(wrapOutboundOut(buffer), promise: nil)
            } else {
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.whenComplete { result in waiting.forEach { $0.completeWith(result) } }
                context.write(wrapOutboundOut(buffer), promise: written)
            }
        }
        context.flush()
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        failPending(ChannelError.ioOnClosedChannel)
        context.close(mode: mode, promise: promise)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        failPending(ChannelError.ioOnClosedChannel)
    }

    private func failPending(_ error: any Error) {
        pending = nil
        let waiting = promises
        promises = []
        waiting.forEach { $0.fail(error) }
    }
}
