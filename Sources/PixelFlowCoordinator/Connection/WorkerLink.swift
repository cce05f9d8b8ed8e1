import NIOCore
import PixelFlowProtocol

/// The task streams of one registered worker connection, and the variants arriving on them. Part of the
/// connection's state machine (WorkerLink+Tasks.swift); no I/O.
struct WorkerLink {
    /// A variant whose chunks are still arriving; relayed only once complete, so a client never sees half a
    /// variant from a worker that died mid-way.
    struct VariantInProgress {
        var header: VariantHeader
        /// Decoded as it arrives: a corrupt chunk stops here, not at the client.
        var payload: PayloadAssembler
    }

    struct Task {
        var job: JobID
        var attempt: UInt16
        var variant: VariantInProgress?
        /// An ASSIGN_OBJECT: its variants come as VARIANT_STORED, never as VARIANT and chunks.
        var storesObjects = false
    }

    let workerID: WorkerID
    /// The protocol version the handshake chose: from v2 on, task outcomes carry the task's usage.
    let version: UInt8
    /// REGISTER's `timings` bit, on v2: every TASK_DONE ends with `decode_ms`.
    let reportsTimings: Bool
    let maxVariantBytes: UInt64
    var tasks: [UInt32: Task] = [:]
    private var nextStreamID: UInt32 = 2

    init(
        workerID: WorkerID, version: UInt8 = ProtocolVersion.v2, formats: OutputFormats = [],
        maxVariantBytes: UInt64
    ) {
        self.workerID = workerID
        self.version = version
        self.reportsTimings = version >= ProtocolVersion.v2 && formats.contains(.timings)
        self.maxVariantBytes = maxVariantBytes
    }

    /// A new even stream for an ASSIGN or ASSIGN_OBJECT.
    mutating func openTask(job: JobID, attempt: UInt16, storesObjects: Bool = false) -> UInt32 {
        let streamID = nextStreamID
        nextStreamID &+= 2
        tasks[streamID] = Task(job: job, attempt: attempt, storesObjects: storesObjects)
        return streamID
    }

    func stream(of job: JobID, attempt: UInt16) -> UInt32? {
        tasks.first { $0.value.job == job && $0.value.attempt == attempt }?.key
    }

    mutating func beginVariant(_ header: VariantHeader, on streamID: UInt32) throws(ProtocolError) {
        guard var task = tasks[streamID], task.variant == nil, !task.storesObjects, header.jobID == task.job,
            header.attempt == task.attempt
        else {
            throw ProtocolError.malformed("VARIANT on stream \(streamID) does not match an open ASSIGN task")
        }
        try checkSize(header)
        task.variant = VariantInProgress(header: header, payload: PayloadAssembler(expected: Int(header.size)))
        tasks[streamID] = task
    }

    /// VARIANT_STORED must answer an ASSIGN_OBJECT on its stream, within the variant size limit.
    func checkStoredVariant(_ header: VariantHeader, on streamID: UInt32) throws(ProtocolError) {
        guard let task = tasks[streamID], task.storesObjects, header.jobID == task.job, header.attempt == task.attempt
        else {
            throw ProtocolError.malformed(
                "VARIANT_STORED on stream \(streamID) does not match an open ASSIGN_OBJECT task")
        }
        try checkSize(header)
    }

    private func checkSize(_ header: VariantHeader) throws(ProtocolError) {
        guard header.size <= maxVariantBytes else {
            throw ProtocolError.malformed(
                "variant '\(header.variantID)' of \(header.size) bytes is over the limit of \(maxVariantBytes)")
        }
    }

    /// Adds a chunk to the stream's variant. Returns the variant when this was its last chunk.
    mutating func receiveChunk(_ chunk: Chunk, on streamID: UInt32) throws(ProtocolError) -> (Task, VariantInProgress)?
    {
        // Taken out of the table so the variant's buffer has one owner and appending never copies it.
        guard var task = tasks.removeValue(forKey: streamID), var variant = task.variant else {
            throw ProtocolError.malformed("CHUNK on stream \(streamID), which has no variant open")
        }
        task.variant = nil
        if try variant.payload.add(chunk) {
            task.variant = nil
            tasks[streamID] = task
            return (task, variant)
        }
        task.variant = variant
        tasks[streamID] = task
        return nil
    }

    /// TASK_DONE or TASK_FAILED ends the task's stream.
    /// Its usage fields are there exactly on a v2 connection.
    mutating func endTask(
        on streamID: UInt32, job: JobID, attempt: UInt16, usage: TaskUsage?
    ) throws(ProtocolError) {
        guard let task = tasks[streamID], task.job == job, task.attempt == attempt else {
            throw ProtocolError.malformed("task result on stream \(streamID) does not match an open task")
        }
        if version >= ProtocolVersion.v2, usage == nil {
            throw ProtocolError.malformed(
                "a task result on a v\(version) connection must end with cpu_ms and source_pixels")
        }
        if version < ProtocolVersion.v2, usage != nil {
            throw ProtocolError.malformed("\(TaskUsage.wireSize) bytes left over after a v\(version) task result")
        }
        tasks[streamID] = nil
    }

    /// TASK_DONE ends with `decode_ms` exactly when the worker's REGISTER promised it.
    func checkTimings(_ done: TaskDone) throws(ProtocolError) {
        if reportsTimings, done.decodeMilliseconds == nil {
            throw ProtocolError.malformed("TASK_DONE from a worker with the timings bit must end with decode_ms")
        }
        if !reportsTimings, done.decodeMilliseconds != nil {
            throw ProtocolError.malformed("bytes left over after TASK_DONE's fields")
        }
    }
}
