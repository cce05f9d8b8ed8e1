import PixelFlowProtocol

/// Why a client request failed.
///
/// Switch on ``code`` for the kind of failure; read ``message`` for the details (the coordinator's own words when
/// it sent some, e.g. the pipeline field at fault). A refusal that may succeed later has ``code`` ``Code/rejected``,
/// a ``rejectionReason`` and, when the coordinator gave an estimate, a ``retryAfter``. Descriptions never contain
/// the secret.
///
/// ```swift
/// switch error.code {
/// case .rejected: try await Task.sleep(for: error.retryAfter ?? .seconds(1))
/// case .invalidPipeline: print("bad pipeline: \(error.message)")
/// default: throw error
/// }
/// ```
public struct PixelFlowClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, to switch on (with a `default:` case: new codes may be added).
    public var code: Code
    /// What went wrong, in words: the coordinator's message, or the client's own for failures found locally.
    public var message: String
    /// Why the coordinator refused the request; set when ``code`` is ``Code/rejected``.
    public var rejectionReason: RejectionReason?
    /// How long the coordinator asked to wait before retrying, when it gave an estimate (rejections only).
    public var retryAfter: Duration?
    /// The job concerned, when the coordinator named one (a job that failed, or a failed job's status).
    public var jobID: JobID?
    /// The protocol code behind the error, when there is one: the coordinator's, or the one the client applies to
    /// a failure it found itself (e.g. `source_too_large`). It is the code of the GOAWAY the client sends.
    var wireCode: ErrorCode?

    /// Makes an error of the given kind: for code that stands in for the client, such as test doubles.
    public init(_ code: Code, _ message: String, jobID: JobID? = nil) {
        self.init(code, message, wireCode: nil, jobID: jobID)
    }

    /// Makes a rejection (``Code/rejected``) for `reason`, to be retried after `retryAfter` if given.
    public init(rejected reason: RejectionReason, _ message: String, retryAfter: Duration? = nil) {
        self.init(.rejected, message, wireCode: reason.wireCode)
        self.rejectionReason = reason
        self.retryAfter = retryAfter
    }

    init(_ code: Code, _ message: String, wireCode: ErrorCode?, jobID: JobID? = nil) {
        self.code = code
        self.message = message
        self.wireCode = wireCode
        self.jobID = jobID
    }

    /// The protocol's snake_case name of the code the coordinator sent (`frame_too_large`, `retries_exhausted`…),
    /// finer than ``code``; nil for failures the client found on its own, such as a lost connection.
    public var protocolCode: String? { wireCode?.name }

    /// Whether sending the same request again later may succeed: rejections, lost connections, timeouts.
    public var isRetryable: Bool {
        switch code {
        case .rejected, .connectionLost, .timeout: true
        case .other: wireCode?.isRetryable ?? false
        default: false
        }
    }

    /// The stable snake_case name of the failure, as pfctl prints it in JSON (`rate_limited`, `connection_lost`…):
    /// the rejection reason for a rejection, the coordinator's code for ``Code/other``, else the code's name.
    public var name: String {
        if let rejectionReason { return rejectionReason.description }
        if code == .other, let protocolCode { return protocolCode }
        return code.description
    }

    /// `name: message`, with the retry delay when there is one.
    public var description: String {
        var text = "\(name): \(message)"
        if let retryAfter { text += " (retry after \(retryAfter))" }
        return text
    }
}
