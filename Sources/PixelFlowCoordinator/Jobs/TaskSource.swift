import PixelFlowProtocol

/// Where a job's source is, and so how a worker gets it.
public enum TaskSource: Sendable {
    /// Held here, decoded, as raw slices of at most `max_chunk_data`: the CHUNKs an ASSIGN is followed by.
    case chunks([Chunk])
    /// Left in the object store under this key (`s3_presigned` with `objects.s3.workers_direct`): the worker gets
    /// ASSIGN_OBJECT, reads it there and stores the variants beside it.
    case object(key: String)

    /// The object-store key, for a source left there.
    public var objectKey: String? {
        if case .object(let key) = self { return key }
        return nil
    }
}
