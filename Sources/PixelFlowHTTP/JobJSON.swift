import Foundation
import PixelFlowCoordinator
import PixelFlowProtocol
import PixelFlowStore

/// A job as `GET /v1/jobs/{id}` shows it (and each entry of a list). Times are RFC 3339 UTC with milliseconds.
struct JobJSON: Encodable {
    struct Failure: Encodable {
        var code: String
        var message: String
    }

    struct Source: Encodable {
        var bytes: UInt64
        /// Nil for a source left in the object store: the coordinator never read it.
        var sha256: String?
        /// The source's key in the object store, for such a source.
        var objectKey: String?

        enum CodingKeys: String, CodingKey {
            case bytes, sha256, objectKey = "object_key"
        }
    }

    struct Variant: Encodable {
        var id: String
        var format: String
        var width: UInt32
        var height: UInt32
        var bytes: UInt64
        var url: String
    }

    var jobID: String
    var status: String
    var sourceType: String?
    var sourceURL: String?
    var attempts: UInt16
    var createdAt: String
    var finishedAt: String?
    var expiresAt: String?
    var webhookURL: String?
    var source: Source?
    var error: Failure?
    var variantCount: Int
    /// Present on a single job; a list gives `variants_stored` instead.
    var variants: [Variant]?
    var variantsStored: Int?

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", status, sourceType = "source_type", sourceURL = "source_url", attempts
        case createdAt = "created_at"
        case finishedAt = "finished_at", expiresAt = "expires_at", webhookURL = "webhook_url", source, error
        case variantCount = "variant_count", variants, variantsStored = "variants_stored"
    }

    init(draft: JobDraft) {
        jobID = String(draft.id)
        status = "created"
        sourceType = draft.sourceType.name
        sourceURL = draft.sourceURL.isEmpty ? nil : draft.sourceURL
        attempts = 0
        createdAt = Self.time(draft.createdAt)
        expiresAt = Self.time(draft.expiresAt)
        webhookURL = draft.webhookURL.isEmpty ? nil : draft.webhookURL
        source = draft.source.map { Source(bytes: $0.size, sha256: Hex.encode($0.sha256)) }
        variantCount = draft.variantCount
    }

    /// `baseURL`: where the variants' URLs point (scheme and host of the request); `objectURL`: a presigned GET
    /// for a variant in the object store.
    init(
        job: StoredJob, variants stored: [StoredVariant]?, storedCount: Int? = nil, baseURL: String,
        objectURL: (StoredVariant) -> String? = { _ in nil }
    ) {
        jobID = String(job.id)
        status = job.state.description
        attempts = job.attempt
        createdAt = Self.time(job.admittedAt)
        finishedAt = job.finishedAt.map(Self.time)
        expiresAt = job.expiresAt.map(Self.time)
        webhookURL = job.webhookURL.isEmpty ? nil : job.webhookURL
        if let key = job.sourceObjectKey {
            source = Source(bytes: job.sourceSize, objectKey: key)
        } else if !job.sourceSHA256.isEmpty {
            source = Source(bytes: job.sourceSize, sha256: Hex.encode(job.sourceSHA256))
        }
        if job.state == .failed { error = Failure(code: job.code.name, message: job.message) }
        variantCount = job.variantCount
        variants = stored?.map { variant in
            Variant(
                id: variant.variantID, format: variant.format, width: variant.width, height: variant.height,
                bytes: variant.size,
                url: objectURL(variant)
                    ?? "\(baseURL)/v1/jobs/\(job.id)/variants/\(Self.pathSegment(variant.variantID))")
        }
        variantsStored = storedCount
    }

    static func time(_ unixMilliseconds: Int64) -> String {
        RFC3339.string(unixMilliseconds: unixMilliseconds)
    }

    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? text
    }
}

/// What `POST /v1/jobs` answers.
struct CreatedJSON: Encodable {
    struct Upload: Encodable {
        var url: String
        var method: String
        var expiresAt: String?

        enum CodingKeys: String, CodingKey {
            case url, method, expiresAt = "expires_at"
        }
    }

    var jobID: String
    var status: String
    var upload: Upload?

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", status, upload
    }
}

/// What `PUT /v1/jobs/{id}/source` answers.
struct UploadedJSON: Encodable {
    var jobID: String
    var status: String
    var source: JobJSON.Source

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", status, source
    }
}

/// A page of `GET /v1/jobs`: `next_cursor` is given while more follow.
struct JobListJSON: Encodable {
    var jobs: [JobJSON]
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case jobs, nextCursor = "next_cursor"
    }
}

/// `GET /v1/usage`: hourly buckets and per-tenant totals, as `pfctl usage --json` prints them.
struct UsageJSON: Encodable {
    struct Row: Encodable {
        var tenant: String
        var hour: String?
        var admitted, succeeded, failed, cancelled: UInt64
        var sourcePixels: UInt64
        var bytesIn, bytesOut, cpuMilliseconds: UInt64

        enum CodingKeys: String, CodingKey {
            case tenant, hour, admitted, succeeded, failed, cancelled, sourcePixels = "source_pixels"
            case bytesIn = "bytes_in", bytesOut = "bytes_out", cpuMilliseconds = "cpu_ms"
        }

        init(tenant: String, hour: UInt64?, _ counts: UsageCounts) {
            self.tenant = tenant
            self.hour = hour.map { JobJSON.time(Int64($0) * 1000) }
            admitted = counts.admitted
            succeeded = counts.succeeded
            failed = counts.failed
            cancelled = counts.cancelled
            sourcePixels = counts.sourcePixels
            bytesIn = counts.bytesIn
            bytesOut = counts.bytesOut
            cpuMilliseconds = counts.cpuMilliseconds
        }
    }

    var since: String
    var buckets: [Row]
    var totals: [Row]
}
