import NIOCore

/// The channel handler over a `FrameBatch`: frames written between two flushes leave in one buffer.
public final class BatchingFrameEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = WireElement
    public typealias OutboundOut = ByteBuffer

    private var batch = FrameBatch()
    private var promises: [EventLoopPromise<Void>] = []

    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        batch.append(unwrapOutboundIn(data), allocator: context.channel.allocator) {
            context.write(wrapOutboundOut($0), promise: nil)
        }
        if let promise { promises.append(promise) }
    }

    public func flush(context: ChannelHandlerContext) {
        if let buffer = batch.take() {
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
        _ = batch.take()
        let waiting = promises
        promises = []
        waiting.forEach { $0.fail(error) }
    }
}
