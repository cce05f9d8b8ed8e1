import Foundation
import NIOCore
import PixelFlowObjects
import PixelFlowPipeline
import PixelFlowProtocol

/// The coordinator's object store (`objects.s3`): where `s3_presigned` jobs keep their source and results, and the
/// presigned URLs that let clients and workers move those bytes without passing through the coordinator.
struct ObjectStorage: Sendable {
    let client: S3Client
    /// How long a presigned URL handed to a client is valid (`objects.s3.presign_ttl`).
    let presignTTL: TimeAmount
    /// Workers read sources and write variants themselves (ASSIGN_OBJECT); off: the coordinator reads the source
    /// into its job store at start and the job runs like any other (`objects.s3.workers_direct`).
    let workersDirect: Bool

    init?(_ config: ObjectsConfig) {
        // The settings were checked when the config was read: an endpoint that is not a URL never gets here.
        guard let client = try? S3Client(settings: config.s3) else { return nil }
        self.client = client
        self.presignTTL = config.presignTTL
        self.workersDirect = config.workersDirect
    }

    /// `<prefix>/<tenant>/<job_id>/source`.
    func sourceKey(tenant: String, job: JobID) -> String {
        client.key("\(tenant)/\(job)/source")
    }

    /// `<prefix>/<tenant>/<job_id>/<variant_id>.<ext>`.
    func resultKey(tenant: String, job: JobID, variantID: String, format: String) -> String {
        let ext = OutputFormat(name: format)?.fileExtension ?? format
        return client.key("\(tenant)/\(job)/\(variantID).\(ext)")
    }

    /// A presigned URL for `method` on `key`, valid for `ttl` (whole seconds, at least one), and when it expires.
    func presign(_ method: String, key: String, ttl: TimeAmount) -> (url: String, expiresAt: Int64) {
        let now = Date()
        let seconds = max(1, Int(ttl.nanoseconds / 1_000_000_000))
        return (
            client.presignedURL(method: method, key: key, expires: seconds, now: now),
            Int64(now.timeIntervalSince1970 * 1000) + Int64(seconds) * 1000
        )
    }

    /// The ASSIGN_OBJECT for an attempt: a GET of the source and a PUT per variant, each valid for the task's whole
    /// time (its time limit, or the lease when it has none) and a minute more.
    func assignment(for assign: Assign, tenant: String, sourceKey: String) -> AssignObject {
        let limit = assign.timeLimitMilliseconds > 0 ? assign.timeLimitMilliseconds : assign.leaseMilliseconds
        let ttl = TimeAmount.milliseconds(Int64(limit)) + .seconds(60)
        let variants = (try? PipelineCache.shared.decode(wire: Data(assign.pipeline.readableBytesView)))?.variants ?? []
        let outputs = variants.map { variant in
            let key = resultKey(
                tenant: tenant, job: assign.taskID, variantID: variant.id, format: variant.format.rawValue)
            return AssignObject.Output(variantID: variant.id, putURL: presign("PUT", key: key, ttl: ttl).url)
        }
        return AssignObject(
            taskID: assign.taskID, attempt: assign.attempt, leaseMilliseconds: assign.leaseMilliseconds,
            timeLimitMilliseconds: assign.timeLimitMilliseconds, sourceSize: assign.sourceSize,
            sourceURL: presign("GET", key: sourceKey, ttl: ttl).url, pipeline: assign.pipeline, outputs: outputs)
    }
}
