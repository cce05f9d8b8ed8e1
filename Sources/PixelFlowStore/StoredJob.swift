import NIOCore
import PixelFlowProtocol

/// A job as the store keeps it: everything needed to run it again after a restart and to answer for it after it
/// ended. Times are wall-clock Unix milliseconds, never monotonic deadlines, so they mean the same after a restart.
public struct StoredJob: Sendable, Hashable {
    public var id: UInt64
    public var tenant: String
    public var state: JobStatus.State
    public var priority: UInt8
    public var pipeline: ByteBuffer
    public var variantCount: Int
    public var formats: OutputFormats
    public var sourceSHA256: [UInt8]
    public var sourceSize: UInt64
    /// Empty when none.
    public var idempotencyKey: String
    /// Empty when none.
    public var webhookURL: String
    /// The last attempt leased to a worker; 0 until the first.
    public var attempt: UInt16
    /// A queued job waiting out its retry backoff: not dispatched before then (Unix ms).
    public var retryAt: Int64?
    public var admittedAt: Int64
    public var deadlineAt: Int64?
    public var finishedAt: Int64?
    /// When the job and its results are deleted (set when it ends).
    public var expiresAt: Int64?
    public var code: ErrorCode
    public var message: String
    /// The object-store key of its source, for a job whose data lives in the object store: its source is not in the
    /// blob store (`sourceSHA256` is empty) and its variants are objects too.
    public var sourceObjectKey: String?

    public init(
        id: UInt64, tenant: String, state: JobStatus.State = .queued, priority: UInt8, pipeline: ByteBuffer,
        variantCount: Int, formats: OutputFormats, sourceSHA256: [UInt8], sourceSize: UInt64, idempotencyKey: String,
        webhookURL: String, attempt: UInt16 = 0, retryAt: Int64? = nil, admittedAt: Int64, deadlineAt: Int64? = nil,
        finishedAt: Int64? = nil, expiresAt: Int64? = nil, code: ErrorCode = .none, message: String = "",
        sourceObjectKey: String? = nil
    ) {
        self.sourceObjectKey = sourceObjectKey
        self.retryAt = retryAt
        self.id = id
        self.tenant = tenant
        self.state = state
        self.priority = priority
        self.pipeline = pipeline
        self.variantCount = variantCount
        self.formats = formats
        self.sourceSHA256 = sourceSHA256
        self.sourceSize = sourceSize
        self.idempotencyKey = idempotencyKey
        self.webhookURL = webhookURL
        self.attempt = attempt
        self.admittedAt = admittedAt
        self.deadlineAt = deadlineAt
        self.finishedAt = finishedAt
        self.expiresAt = expiresAt
        self.code = code
        self.message = message
    }
}

/// A variant a job produced, kept with its bytes in the blob store, or in the object store under `objectKey`.
public struct StoredVariant: Sendable, Hashable {
    public var jobID: UInt64
    public var variantID: String
    public var attempt: UInt16
    public var format: String
    public var width: UInt32
    public var height: UInt32
    public var size: UInt64
    public var elapsedMilliseconds: UInt32
    /// Empty for a variant in the object store.
    public var sha256: [UInt8]
    /// Where the variant is in the object store; nil: in the blob store.
    public var objectKey: String?

    public init(_ header: VariantHeader, sha256: [UInt8]) {
        jobID = header.jobID
        attempt = header.attempt
        variantID = header.variantID
        format = header.format
        width = header.width
        height = header.height
        size = header.size
        elapsedMilliseconds = header.elapsedMilliseconds
        self.sha256 = sha256
    }

    /// A variant a worker stored in the object store itself.
    public init(_ header: VariantHeader, objectKey: String) {
        self.init(header, sha256: [])
        self.objectKey = objectKey
    }

    /// The VARIANT header that relays it, as it was first relayed.
    public var header: VariantHeader {
        VariantHeader(
            jobID: jobID, attempt: attempt, variantID: variantID, format: format, width: width, height: height,
            size: size, elapsedMilliseconds: elapsedMilliseconds)
    }
}
