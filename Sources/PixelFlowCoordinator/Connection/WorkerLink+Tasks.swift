import NIOCore
import PixelFlowProtocol

/// The worker link's protocol: heartbeats, variants and task outcomes in; tasks and cancels out.
extension WorkerLink {
    mutating func receive(
        _ message: WorkerToCoordinator, on stream: UInt32, chunkSize: Int
    ) throws(ProtocolError)
        -> [ConnectionAction]
    {
        switch message {
        case .heartbeat(let heartbeat):
            return [.cluster(.heartbeat(workerID, heartbeat))]
        case .variant(let header):
            try beginVariant(header, on: stream)
            return []
        case .variantStored(let stored):
            guard version >= ProtocolVersion.v2 else {
                throw ProtocolError(
                    .unknownFrameType, "VARIANT_STORED is a protocol v2 frame; this connection speaks v1")
            }
            try checkStoredVariant(stored.header, on: stream)
            return [.cluster(.variantStored(workerID, stored.header))]
        case .chunk(let chunk):
            guard let (_, variant) = try receiveChunk(chunk, on: stream) else { return [] }
            let chunks = PayloadAssembler.chunks(of: variant.payload.bytes, size: chunkSize)
            return [.cluster(.variantReceived(workerID, variant.header, chunks: chunks))]
        case .taskDone(let done):
            try checkTimings(done)
            try endTask(on: stream, job: done.taskID, attempt: done.attempt, usage: done.usage)
            return [.cluster(.taskDone(workerID, done))]
        case .taskFailed(let failed):
            try endTask(on: stream, job: failed.taskID, attempt: failed.attempt, usage: failed.usage)
            return [.cluster(.taskFailed(workerID, failed))]
        case .drain:
            return [.cluster(.drainWorker(workerID))]
        case .register:
            throw ProtocolError.malformed("a second REGISTER")
        case .ping(let ping):
            return [.pong(ping)]
        case .pong:
            return []
        case .goAway:
            return [.close]  // the worker is leaving: its tasks are requeued when the connection closes
        }
    }

    /// A task for this worker, or a cancel of one, from the cluster's dispatch.
    mutating func deliver(_ delivery: Delivery) -> [ConnectionAction] {
        switch delivery {
        case .assign(let assign, let source):
            let stream = openTask(job: assign.taskID, attempt: assign.attempt)
            return [.writeWithChunks(stream: stream, .assign(assign), source)]
        case .assignObject(let assign):
            let stream = openTask(job: assign.taskID, attempt: assign.attempt, storesObjects: true)
            return [.write(.frame(Frame(stream: stream, .assignObject(assign))))]
        case .cancelTask(let job, let attempt):
            guard let stream = stream(of: job, attempt: attempt) else { return [] }
            return [.write(.frame(Frame(stream: stream, .cancelTask(CancelTask(taskID: job, attempt: attempt)))))]
        case .variant, .outcome, .accepted, .refused, .goAway:
            return []
        }
    }
}
