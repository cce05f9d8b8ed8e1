import NIOCore
import PixelFlowProtocol

/// What an idempotency key remembers of the job it first named, so a resubmission is recognised as the same
/// request, or refused when it is a different one under the same key.
struct IdempotencyRecord: Sendable {
    var job: JobID
    /// The pipeline's bytes hashed with the process's seeded hasher (SipHash): cheap, not guessable from outside,
    /// and never kept beyond the process (a restart rebuilds records from the stored pipelines).
    var pipelineFingerprint: Int
    var sourceSize: UInt64
    /// Set once the first job's source is complete; nil while it is still arriving.
    var sourceDigest: [UInt8]?

    init(job: JobID, submit: Submit) {
        self.init(job: job, pipeline: submit.pipeline, sourceSize: submit.sourceSize)
    }

    init(job: JobID, pipeline: ByteBuffer, sourceSize: UInt64) {
        self.job = job
        self.pipelineFingerprint = Self.fingerprint(of: pipeline)
        self.sourceSize = sourceSize
    }

    /// Why `submit` cannot be a resubmission of this job, if it cannot.
    func conflict(with submit: Submit) -> String? {
        if submit.sourceSize != sourceSize {
            return
                "idempotency key '\(submit.idempotencyKey)' names job \(job), whose source is \(sourceSize) bytes, not \(submit.sourceSize)"
        }
        if Self.fingerprint(of: submit.pipeline) != pipelineFingerprint {
            return "idempotency key '\(submit.idempotencyKey)' names job \(job), which has a different pipeline"
        }
        return nil
    }

    static func fingerprint(of pipeline: ByteBuffer) -> Int {
        var hasher = Hasher()
        pipeline.withUnsafeReadableBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }
}
