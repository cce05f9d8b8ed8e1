import DequeModule
import PixelFlowStore

/// Steps of the cluster waiting for the store: each step's writes, and what the step told other connections,
/// held until those writes (and every earlier step's) have committed. Steps leave in the order they were taken,
/// so nobody hears of a transition before it is durable, nor out of order.
struct StoreQueue {
    struct Batch {
        var writes: [StoreWrite] = []
        var deliveries = Deliveries()
    }

    private var steps: Deque<Batch> = []
    /// The writer took a batch and has not yet sent its deliveries: a step taken meanwhile must queue behind it
    /// even if it has no writes, or its deliveries could overtake the batch's.
    private var isFlushing = false

    /// Nothing is held: a step without writes can send its deliveries at once.
    var isIdle: Bool { steps.isEmpty && !isFlushing }
    var hasSteps: Bool { !steps.isEmpty }

    mutating func append(_ writes: [StoreWrite], _ deliveries: Deliveries) {
        steps.append(Batch(writes: writes, deliveries: deliveries))
    }

    /// The next batch for one transaction: whole steps, at least one, up to `maxWrites` writes. Nil when nothing
    /// is left, which also ends the flush.
    mutating func takeBatch(maxWrites: Int) -> Batch? {
        guard var batch = steps.popFirst() else {
            isFlushing = false
            return nil
        }
        isFlushing = true
        while let next = steps.first, batch.writes.count + next.writes.count <= maxWrites {
            steps.removeFirst()
            batch.writes += next.writes
            batch.deliveries.append(contentsOf: next.deliveries)
        }
        return batch
    }
}
