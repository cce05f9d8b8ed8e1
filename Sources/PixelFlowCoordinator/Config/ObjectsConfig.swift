import NIOCore
import PixelFlowObjects

/// `objects.s3`: the S3-compatible object store sources of `s3_presigned` jobs are uploaded to. The secret access
/// key never sits in the file: it is read from the environment variable `objects.s3.secret_access_key_env` names.
public struct ObjectsConfig: Sendable {
    public var s3: S3Settings
    /// How long a presigned upload URL is valid (`objects.s3.presign_ttl`).
    public var presignTTL: TimeAmount = .minutes(15)
    /// Workers GET `s3_presigned` sources and PUT their variants to the bucket themselves, so those bytes never pass
    /// through the coordinator (`objects.s3.workers_direct`, default true). False: the coordinator reads the source
    /// into its job store when the job starts, and the job's results are kept there, as for any other job.
    public var workersDirect = true

    public init(s3: S3Settings, presignTTL: TimeAmount = .minutes(15), workersDirect: Bool = true) {
        self.s3 = s3
        self.presignTTL = presignTTL
        self.workersDirect = workersDirect
    }

    static let defaultSecretVariable = "PIXELFLOW_S3_SECRET_ACCESS_KEY"

    /// Nil when the config has no `objects.s3.endpoint`.
    static func read(_ reader: inout ConfigReader) throws -> ObjectsConfig? {
        guard let endpoint = try reader.string("objects.s3.endpoint") else { return nil }
        guard let bucket = try reader.string("objects.s3.bucket"), !bucket.isEmpty else {
            throw CoordinatorConfig.Invalid("objects.s3.bucket is missing")
        }
        guard let keyID = try reader.string("objects.s3.access_key_id"), !keyID.isEmpty else {
            throw CoordinatorConfig.Invalid("objects.s3.access_key_id is missing")
        }
        let secretVariable = try reader.string("objects.s3.secret_access_key_env") ?? defaultSecretVariable
        guard let secret = reader.environment[secretVariable], !secret.isEmpty else {
            throw CoordinatorConfig.Invalid(
                "objects.s3: the secret access key is read from $\(secretVariable), which is not set")
        }
        let token = try reader.string("objects.s3.session_token_env").flatMap { reader.environment[$0] }
        var prefix = try reader.string("objects.s3.prefix") ?? ""
        while prefix.hasSuffix("/") { prefix.removeLast() }
        var settings = S3Settings(
            endpoint: endpoint, region: try reader.string("objects.s3.region") ?? "us-east-1", bucket: bucket,
            pathStyle: try reader.bool("objects.s3.path_style") ?? true, prefix: prefix,
            credentials: ObjectStoreCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token))
        settings.timeout = try reader.milliseconds("objects.s3.timeout_ms", in: 100...600_000) ?? settings.timeout
        do {
            _ = try S3Client(settings: settings)
        } catch {
            throw CoordinatorConfig.Invalid(error.message)
        }
        var config = ObjectsConfig(s3: settings)
        if let ttl = try reader.duration("objects.s3.presign_ttl") {
            guard ttl <= .hours(24 * 7) else { throw CoordinatorConfig.Invalid("objects.s3.presign_ttl is over 7d") }
            config.presignTTL = ttl
        }
        config.workersDirect = try reader.bool("objects.s3.workers_direct") ?? true
        return config
    }
}
