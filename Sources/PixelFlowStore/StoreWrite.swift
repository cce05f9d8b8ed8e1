import NIOCore
import PixelFlowProtocol

/// One durable step of a job, as the cluster state machine decided it. A batch of them is one transaction.
public enum StoreWrite: Sendable {
    /// An async job whose source is complete: its record and source, before ACCEPTED.
    case admit(StoredJob, source: ByteBuffer)
    /// The job is leased to a worker for this attempt, before the ASSIGN.
    case lease(job: UInt64, attempt: UInt16, worker: String, at: Int64)
    /// The job went back to the queue (worker lost, lease expired, transient failure); `retryAt` when it waits.
    case requeue(job: UInt64, retryAt: Int64?)
    /// A variant and its bytes, before it is relayed.
    case variant(StoredVariant, bytes: ByteBuffer)
    /// The outcome, before JOB_DONE or JOB_FAILED.
    case finish(
        job: UInt64, state: JobStatus.State, attempts: UInt16, code: ErrorCode, message: String, at: Int64,
        expiresAt: Int64)
    /// Job ids up to this one may be handed out: after a restart, numbering resumes above it.
    case reserveJobIDs(through: UInt64)
    /// A job with a `webhook_url` ended: its event goes into the outbox, with the outcome.
    case enqueueWebhook(WebhookEvent)
    /// Metered usage to add to the hourly buckets, and the number of this batch (kept, so a reader knows which
    /// batches the buckets it read include).
    case usage([UsageReport.Bucket], sequence: UInt64)
    /// A job created over the HTTP API, not started yet.
    case createDraft(JobDraft)
    /// A draft's source was uploaded: it replaces any earlier one.
    case attachDraftSource(job: UInt64, JobDraft.Source, bytes: ByteBuffer)
    /// The draft became a job (its `admit` is in the same transaction): the draft and its hold on the source go.
    case startDraft(job: UInt64)
    /// A draft deleted before it was started (DELETE /v1/jobs/{id}): it goes with its hold on the source.
    case deleteDraft(job: UInt64)
    /// A job deleted with its variants (DELETE /v1/jobs/{id}, after its cancel if it had not ended).
    case deleteJob(job: UInt64)

    /// The job this write is about, if any.
    public var jobID: UInt64? {
        switch self {
        case .admit(let job, _): job.id
        case .lease(let job, _, _, _), .requeue(let job, _), .finish(let job, _, _, _, _, _, _): job
        case .variant(let variant, _): variant.jobID
        case .enqueueWebhook(let event): event.jobID
        case .createDraft(let draft): draft.id
        case .attachDraftSource(let job, _, _), .startDraft(let job), .deleteDraft(let job), .deleteJob(let job):
            job
        case .reserveJobIDs, .usage: nil
        }
    }
}
