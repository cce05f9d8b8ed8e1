import NIOCore
import PixelFlowProtocol

/// A job created over the HTTP API and not started yet (`POST /v1/jobs`): its pipeline is checked and its id
/// taken, its source may have been uploaded, but nothing is queued and no rate limit was spent. `start` turns it
/// into a job in the same transaction that deletes it. Drafts are not jobs: the binary protocol never sees them.
public struct JobDraft: Sendable, Hashable {
    /// Where its source comes from.
    public enum SourceType: UInt8, Sendable, Hashable, CaseIterable {
        /// `PUT /v1/jobs/{id}/source` through the coordinator.
        case upload = 0
        /// A presigned PUT to the object store.
        case s3Presigned = 1
        /// Fetched from `source_url` when started.
        case url = 2

        public var name: String {
            switch self {
            case .upload: "upload"
            case .s3Presigned: "s3_presigned"
            case .url: "url"
            }
        }

        public init?(name: String) {
            guard let type = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = type
        }
    }

    /// A source uploaded for it, kept in the blob store.
    public struct Source: Sendable, Hashable {
        public var sha256: [UInt8]
        public var size: UInt64

        public init(sha256: [UInt8], size: UInt64) {
            self.sha256 = sha256
            self.size = size
        }
    }

    public var id: UInt64
    public var tenant: String
    public var priority: UInt8
    public var pipeline: ByteBuffer
    public var variantCount: Int
    public var formats: OutputFormats
    public var sourceType: SourceType
    /// Empty unless `sourceType` is `url`.
    public var sourceURL: String
    /// Empty when none.
    public var webhookURL: String
    /// Empty when none.
    public var idempotencyKey: String
    public var source: Source?
    /// Unix ms.
    public var createdAt: Int64
    /// When it is deleted if never started (Unix ms).
    public var expiresAt: Int64

    public init(
        id: UInt64, tenant: String, priority: UInt8 = 0, pipeline: ByteBuffer, variantCount: Int,
        formats: OutputFormats, sourceType: SourceType, sourceURL: String = "", webhookURL: String = "",
        idempotencyKey: String = "", source: Source? = nil, createdAt: Int64, expiresAt: Int64
    ) {
        self.id = id
        self.tenant = tenant
        self.priority = priority
        self.pipeline = pipeline
        self.variantCount = variantCount
        self.formats = formats
        self.sourceType = sourceType
        self.sourceURL = sourceURL
        self.webhookURL = webhookURL
        self.idempotencyKey = idempotencyKey
        self.source = source
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
