import PixelFlowLocking
import PixelFlowProtocol

/// The frames waiting to be written, in the order they were enqueued. One writer task drains it in batches.
///
/// Enqueueing never suspends, so a stream id can be allocated and its opening frame enqueued in one critical
/// section: ids then reach the wire in increasing order, as PROTOCOL.md §10.1 requires. Backpressure comes from
/// the senders of payloads, who wait for each chunk to be written before enqueueing the next (`enqueueAndWait`),
/// so the queue holds at most a chunk or two per upload and other streams get a turn between any two chunks.
final class OutboundQueue: Sendable {
    struct Item: Sendable {
        var element: WireElement
        /// Resumed once the element is handed to the channel, or failed if the connection closes first.
        var written: CheckedContinuation<Void, any Error>?
    }

    private struct State {
        var items: [Item] = []
        var writer: CheckedContinuation<[Item]?, Never>?
        var closedBy: PixelFlowClientError?
    }

    private let state = Locked(State())

    /// Adds a frame to the end of the queue. Returns false (and fails `written`) when the queue is closed.
    @discardableResult
    func enqueue(_ element: WireElement, written: CheckedContinuation<Void, any Error>? = nil) -> Bool {
        enum Outcome {
            case queued, wakeWriter(CheckedContinuation<[Item]?, Never>, [Item]), closed(PixelFlowClientError)
        }
        let item = Item(element: element, written: written)
        let outcome: Outcome = state.withLock { state in
            if let error = state.closedBy { return .closed(error) }
            if let writer = state.writer {
                state.writer = nil
                return .wakeWriter(writer, [item])
            }
            state.items.append(item)
            return .queued
        }
        switch outcome {
        case .queued:
            return true
        case .wakeWriter(let writer, let batch):
            writer.resume(returning: batch)
            return true
        case .closed(let error):
            written?.resume(throwing: error)
            return false
        }
    }

    /// Enqueues a frame and waits until it has been handed to the channel.
    func enqueueAndWait(_ element: WireElement) async throws(PixelFlowClientError) {
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enqueue(element, written: continuation)
            }
        } catch let error as PixelFlowClientError {
            throw error
        } catch {
            throw .connectionLost("the frame could not be written: \(error)")
        }
    }

    /// The writer's side: everything queued so far, waiting for something if the queue is empty. `nil` once the
    /// queue is closed and drained.
    func nextBatch() async -> [Item]? {
        await withCheckedContinuation { (continuation: CheckedContinuation<[Item]?, Never>) in
            enum Outcome { case batch([Item]), finished, wait }
            let outcome: Outcome = state.withLock { state in
                if !state.items.isEmpty {
                    defer { state.items.removeAll(keepingCapacity: true) }
                    return .batch(state.items)
                }
                if state.closedBy != nil { return .finished }
                state.writer = continuation
                return .wait
            }
            switch outcome {
            case .batch(let items): continuation.resume(returning: items)
            case .finished: continuation.resume(returning: nil)
            case .wait: break
            }
        }
    }

    /// Accepts nothing more. With `discardPending`, the frames still queued fail with `error` (the connection is
    /// gone); otherwise the writer still drains them (a graceful close writes its GOAWAY this way).
    func close(_ error: PixelFlowClientError, discardPending: Bool) {
        let (writer, dropped): (CheckedContinuation<[Item]?, Never>?, [Item]) = state.withLock { state in
            if state.closedBy == nil { state.closedBy = error }
            let writer = state.writer
            state.writer = nil
            var dropped: [Item] = []
            if discardPending { swap(&dropped, &state.items) }
            return (writer, dropped)
        }
        writer?.resume(returning: nil)
        for item in dropped { item.written?.resume(throwing: error) }
    }
}
