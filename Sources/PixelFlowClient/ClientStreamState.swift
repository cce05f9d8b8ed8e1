import NIOCore
import PixelFlowProtocol

/// One open request stream on the client side: what it expects next, and the variant being reassembled.
/// Pure: frames in, an outcome out.
struct ClientStreamState {
    enum Outcome {
        /// Hand the event to the request; the stream stays open.
        case deliver(StreamEvent)
        /// The stream is closed by this frame: hand over the event, or fail the request.
        case finish(Result<StreamEvent, PixelFlowClientError>)
        /// Nothing to hand over yet (a chunk of a variant still arriving).
        case none
        /// The coordinator broke the protocol: a connection error.
        case violation(String)
    }

    private struct VariantInProgress {
        var header: VariantHeader
        var bytes: [UInt8]
        /// False on a WATCH stream: the bytes are read (to keep the stream in step) and dropped.
        var deliver: Bool
        var received: UInt64 = 0
    }

    let kind: RequestKind
    let sink: StreamSink
    private var accepted = false
    private var variant: VariantInProgress?

    init(kind: RequestKind, sink: StreamSink) {
        self.kind = kind
        self.sink = sink
    }

    mutating func receive(_ message: Message, maxVariantBytes: UInt64) -> Outcome {
        if variant != nil, message.frameType != .chunk {
            return .violation("\(message.frameType) on stream of \(kind) while a VARIANT payload is incomplete")
        }
        switch (kind, message) {
        case (_, .rejected(let rejected)) where !accepted:
            return .finish(
                .failure(
                    PixelFlowClientError(
                        wire: rejected.code, message: rejected.message,
                        retryAfterMilliseconds: rejected.retryAfterMilliseconds)))

        case (.submitAsync, .accepted(let body)):
            return .finish(.success(.accepted(body)))
        case (.submitStream, .accepted(let body)) where !accepted:
            accepted = true
            return .deliver(.accepted(body))

        // PROTOCOL.md §10.2 sends no VARIANT on a WATCH (or a duplicate SUBMIT, which continues as one), but a
        // coordinator that relays them anyway stays compatible: duplicates deliver them, WATCH drops them.
        case (.submitStream, .variant(let header)) where accepted, (.watch, .variant(let header)),
            (.fetch, .variant(let header)):
            guard header.size <= maxVariantBytes else {
                return .violation(
                    "VARIANT \(header.variantID) declares \(header.size) bytes, over max_variant_bytes \(maxVariantBytes)"
                )
            }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(kind == .watch ? 0 : Int(header.size))
            variant = VariantInProgress(header: header, bytes: bytes, deliver: kind != .watch)
            return .none
        case (.submitStream, .jobDone(let done)) where accepted, (.watch, .jobDone(let done)),
            (.fetch, .jobDone(let done)):
            return .finish(.success(.jobDone(done)))
        case (.submitStream, .jobFailed(let failed)) where accepted, (.watch, .jobFailed(let failed)),
            (.fetch, .jobFailed(let failed)):
            return .finish(
                .failure(
                    PixelFlowClientError(
                        wire: failed.code, message: failed.message, jobID: JobID(failed.jobID))))

        case (.status, .status(let status)), (.cancel, .status(let status)):
            return .finish(.success(.status(status)))
        case (.workers, .workers(let list)):
            return .finish(.success(.workers(list)))
        case (.stats, .stats(let stats)):
            return .finish(.success(.stats(stats)))
        case (.jobs, .jobList(let list)):
            return .finish(.success(.jobList(list)))
        case (.usage, .usage(let report)):
            return .finish(.success(.usage(report)))

        default:
            return .violation("unexpected \(message.frameType) on the stream of a \(kind)")
        }
    }

    /// A decoded CHUNK of the variant in progress.
    mutating func receiveChunk(_ data: ByteBuffer, isLast: Bool) -> Outcome {
        guard var current = variant else {
            return .violation("CHUNK on the stream of a \(kind) with no VARIANT payload in progress")
        }
        variant = nil  // keeps `bytes` uniquely referenced while appending
        current.received += UInt64(data.readableBytes)
        if current.deliver { current.bytes.append(contentsOf: data.readableBytesView) }
        let size = current.header.size
        guard current.received <= size else {
            return .violation("variant \(current.header.variantID): chunks add up to more than its \(size) bytes")
        }
        guard isLast else {
            variant = current
            return .none
        }
        guard current.received == size else {
            return .violation("variant \(current.header.variantID): END after \(current.received) of \(size) bytes")
        }
        guard current.deliver else { return .none }
        let header = current.header
        return .deliver(
            .variant(
                Variant(
                    id: header.variantID, format: header.format, width: Int(header.width), height: Int(header.height),
                    bytes: current.bytes, elapsedMilliseconds: Int(header.elapsedMilliseconds),
                    attempt: Int(header.attempt))))
    }
}
