import NIOCore
import PixelFlowProtocol

/// Where accepted jobs live, so none is lost with the coordinator. The coordinator appends `StoreWrite`s in the
/// order its state machine decided them and commits them in batches; it acknowledges nothing a write stands
/// behind until that write's batch has committed. SQLite is the embedded default (`SQLiteJobStore`).
public protocol JobStore: Sendable {
    /// Applies the batch in one transaction: all of it or nothing.
    func commit(_ batch: [StoreWrite]) async throws(StoreError)
    /// A job, if the tenant has it.
    func job(_ id: UInt64, tenant: String) async throws(StoreError) -> StoredJob?
    /// Jobs newest first with an id below `beforeID` (0: from the newest), of one tenant (nil: every tenant) and one
    /// state (nil: any), at most `limit`, each with the number of variants it stored.
    func jobs(
        tenant: String?, state: JobStatus.State?, beforeID: UInt64, limit: Int
    ) async throws(StoreError) -> [(job: StoredJob, storedVariants: Int)]
    /// The variants stored for a job, in the order they were produced.
    func variants(of job: UInt64) async throws(StoreError) -> [StoredVariant]
    /// A blob's bytes, checked against its size and hash.
    func blob(_ sha256: [UInt8]) async throws(StoreError) -> ByteBuffer
    /// Deletes jobs and drafts that expired by `now` (Unix ms), at most `limit` of each; returns how many went.
    func deleteExpired(now: Int64, limit: Int) async throws(StoreError) -> Int
    /// Whether a one-row write goes through now (the store's readiness).
    func probe() async throws(StoreError)
    /// Outbox events due by `now` (Unix ms), oldest first.
    func dueWebhooks(now: Int64, limit: Int) async throws(StoreError) -> [WebhookEvent]
    /// Records how delivery attempts ended.
    func recordWebhookAttempts(_ attempts: [WebhookAttempt]) async throws(StoreError)
    /// The outbox's events of a job, with where each stands.
    func webhookStates(
        of job: UInt64
    ) async throws(StoreError) -> [(eventID: String, state: WebhookState, attempts: Int)]
    /// Hourly usage buckets from the hour holding `since` (Unix seconds) on, after `after` in (hour, tenant) order,
    /// of one tenant (nil: every tenant), at most `limit`; with the number of the last usage batch committed.
    func usage(
        tenant: String?, since: UInt64, after: UsageCursor?, limit: Int
    ) async throws(StoreError) -> (buckets: [UsageReport.Bucket], sequence: UInt64)
    /// Deletes buckets of hours before `hour` (Unix seconds); returns how many went.
    func deleteUsage(before hour: UInt64) async throws(StoreError) -> Int
    /// Keys of objects in the object store whose jobs were deleted (expired or DELETEd), at most `limit`.
    func pendingObjectDeletions(limit: Int) async throws(StoreError) -> [String]
    /// These objects are gone from the object store.
    func objectsDeleted(_ keys: [String]) async throws(StoreError)
    /// A job of the tenant with its stored variants, or else a draft of the tenant with that id: one read.
    func lookup(_ id: UInt64, tenant: String) async throws(StoreError) -> StoredLookup?
    /// A draft (a job created over HTTP, not started), if the tenant has it.
    func draft(_ id: UInt64, tenant: String) async throws(StoreError) -> JobDraft?
    /// Drafts newest first with an id below `beforeID` (0: from the newest), of one tenant (nil: all), at most `limit`.
    func drafts(tenant: String?, beforeID: UInt64, limit: Int) async throws(StoreError) -> [JobDraft]
    /// The draft and the newest job of the tenant that carry this idempotency key.
    func jobOrDraft(
        idempotencyKey: String, tenant: String
    ) async throws(StoreError) -> (job: StoredJob?, draft: JobDraft?)
}

/// What an id names in the store.
public enum StoredLookup: Sendable {
    case job(StoredJob, variants: [StoredVariant])
    case draft(JobDraft)
}

/// A position in usage order: the hour (Unix seconds) and tenant of the last bucket already read.
public struct UsageCursor: Sendable, Hashable {
    public var hour: UInt64
    public var tenant: String

    public init(hour: UInt64, tenant: String) {
        self.hour = hour
        self.tenant = tenant
    }
}

/// What a restart finds in the store.
public struct RecoveredState: Sendable {
    /// The next job id to hand out: above every id handed out before, stored or not.
    public var nextJobID: UInt64
    /// Ids are reserved up to here; a `reserveJobIDs` write must extend it before `nextJobID` passes it.
    public var reservedThrough: UInt64
    /// Jobs that had not ended, with their sources and the variants already stored.
    public var liveJobs: [RecoveredJob]
    /// The most recently finished jobs (newest last), for STATUS, WATCH and idempotency keys.
    public var recentlyFinished: [StoredJob]
    /// Random, made when the store was created: webhook event ids carry it, so they stay unique even if the data
    /// directory is started afresh and job ids begin again at 1.
    public var storeID: String
    /// Each tenant's usage over the buckets kept, and the number of the last usage batch committed.
    public var usageTotals: [String: UsageCounts] = [:]
    public var usageSequence: UInt64 = 0

    public init(
        nextJobID: UInt64, reservedThrough: UInt64, liveJobs: [RecoveredJob], recentlyFinished: [StoredJob],
        storeID: String = "0"
    ) {
        self.nextJobID = nextJobID
        self.reservedThrough = reservedThrough
        self.liveJobs = liveJobs
        self.recentlyFinished = recentlyFinished
        self.storeID = storeID
    }
}

public struct RecoveredJob: Sendable {
    public var job: StoredJob
    /// A failure when the source blob is missing or damaged: the job then fails with `storage_error`.
    public var source: Result<ByteBuffer, StoreError>
    /// Variants already stored (and relayed), in order: never relayed twice.
    public var storedVariants: [StoredVariant]

    public init(job: StoredJob, source: Result<ByteBuffer, StoreError>, storedVariants: [StoredVariant]) {
        self.job = job
        self.source = source
        self.storedVariants = storedVariants
    }
}
