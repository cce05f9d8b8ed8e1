import Foundation
import NIOCore
import PixelFlowProtocol
import PixelFlowStore

/// The HTTP API's way in (PixelFlowHTTP): a job is created as a draft (pipeline checked, id taken, nothing
/// queued), given its source, then started through the same admission as an async SUBMIT — rate limits, queue
/// caps, idempotency — and stored before the start is answered. One model behind both front doors.
extension Coordinator {
    /// Why a draft request was refused.
    public enum DraftProblem: Error, Sendable, Equatable {
        /// Refused as SUBMIT would be, with the same code.
        case refused(ProtocolError)
        /// Started before its source was uploaded.
        case sourceMissing(String)
        /// Started or cancelled already, or another request is changing it at this moment.
        case conflict(String)
        /// Its `source_url` could not be fetched: unreachable, an error status, too slow.
        case sourceUnavailable(String)
    }

    public struct DraftRequest: Sendable {
        public var tenant: String
        public var pipeline: ByteBuffer
        public var sourceType: JobDraft.SourceType
        public var sourceURL: String
        public var webhookURL: String
        public var idempotencyKey: String
        public var priority: UInt8

        public init(
            tenant: String, pipeline: ByteBuffer, sourceType: JobDraft.SourceType, sourceURL: String = "",
            webhookURL: String = "", idempotencyKey: String = "", priority: UInt8 = 128
        ) {
            self.tenant = tenant
            self.pipeline = pipeline
            self.sourceType = sourceType
            self.sourceURL = sourceURL
            self.webhookURL = webhookURL
            self.idempotencyKey = idempotencyKey
            self.priority = priority
        }
    }

    /// What a create request found or made.
    public enum Created: Sendable {
        /// `isNew` false: the idempotency key named this draft already.
        case draft(JobDraft, isNew: Bool)
        /// The idempotency key names a job that was started already.
        case job(StoredJob)
    }

    public static let maxIdempotencyKeyBytes = 256

    /// POST /v1/jobs: checks the request as SUBMIT would, then stores a draft under a fresh job id.
    public func createDraft(_ request: DraftRequest) async -> Result<Created, DraftProblem> {
        let store: any JobStore
        switch usableStore() {
        case .success(let usable): store = usable
        case .failure(let problem): return .failure(problem)
        }
        if let problem = checkDraft(request) { return .failure(.refused(problem)) }
        let summary: PipelineSummary
        switch validatePipeline(request.pipeline) {
        case .success(let valid): summary = valid
        case .failure(let error): return .failure(.refused(error))
        }
        guard summary.variantCount <= Int(settings.limits.maxVariants) else {
            return .failure(
                .refused(
                    ProtocolError(
                        .invalidPipeline,
                        "pipeline: \(summary.variantCount) variants, at most \(settings.limits.maxVariants)")))
        }
        let key = "key \(request.tenant) \(request.idempotencyKey)"
        if !request.idempotencyKey.isEmpty {
            guard draftsInProgress.claim(key) else {
                return .failure(.conflict("another request with this idempotency key is being answered"))
            }
        }
        defer { if !request.idempotencyKey.isEmpty { draftsInProgress.release(key) } }
        do throws(StoreError) {
            if !request.idempotencyKey.isEmpty {
                let earlier = try await store.jobOrDraft(idempotencyKey: request.idempotencyKey, tenant: request.tenant)
                if let draft = earlier.draft {
                    guard draft.pipeline == request.pipeline, draft.sourceType == request.sourceType,
                        draft.sourceURL == request.sourceURL
                    else {
                        return .failure(.refused(Self.keyConflict(request.idempotencyKey, job: draft.id)))
                    }
                    return .success(.draft(draft, isNew: false))
                }
                if let job = earlier.job {
                    guard job.pipeline == request.pipeline else {
                        return .failure(.refused(Self.keyConflict(request.idempotencyKey, job: job.id)))
                    }
                    return .success(.job(job))
                }
            }
            let id = takeJobID()
            let now = Self.unixMilliseconds()
            let draft = JobDraft(
                id: id, tenant: request.tenant, priority: request.priority, pipeline: request.pipeline,
                variantCount: summary.variantCount, formats: summary.formats, sourceType: request.sourceType,
                sourceURL: request.sourceURL, webhookURL: request.webhookURL, idempotencyKey: request.idempotencyKey,
                createdAt: now, expiresAt: now + settings.draftTTL.nanoseconds / 1_000_000)
            try await store.commit([.createDraft(draft)])
            return .success(.draft(draft, isNew: true))
        } catch {
            return .failure(.refused(ProtocolError(.storageError, "the job could not be stored: \(error.message)")))
        }
    }

    /// PUT /v1/jobs/{id}/source: keeps the bytes as the draft's source, replacing any uploaded before.
    public func attachSource(
        _ bytes: ByteBuffer, to id: UInt64, tenant: String
    ) async -> Result<JobDraft.Source, DraftProblem> {
        let store: any JobStore
        switch usableStore() {
        case .success(let usable): store = usable
        case .failure(let problem): return .failure(problem)
        }
        guard bytes.readableBytes > 0 else {
            return .failure(.refused(ProtocolError(.undecodableImage, "the source is empty")))
        }
        guard UInt64(bytes.readableBytes) <= settings.limits.maxSourceBytes else {
            return .failure(
                .refused(
                    ProtocolError(
                        .sourceTooLarge,
                        "source of \(bytes.readableBytes) bytes is over the limit of \(settings.limits.maxSourceBytes)")
                ))
        }
        guard draftsInProgress.claim("job \(id)") else { return .failure(Self.busy(id)) }
        defer { draftsInProgress.release("job \(id)") }
        do throws(StoreError) {
            guard let draft = try await store.draft(id, tenant: tenant) else {
                return .failure(try await startedOrMissing(id, tenant: tenant, store))
            }
            guard draft.sourceType != .url else {
                return .failure(.conflict("job \(id) has source_type url: its source is fetched from its source_url"))
            }
        } catch {
            return .failure(.refused(ProtocolError(.storageError, "job \(id) could not be read: \(error.message)")))
        }
        return await keepSource(bytes, of: id, store)
    }

    /// POST /v1/jobs/{id}/start: admits the draft as an async job (the tenant's token bucket and the queue caps
    /// apply here) and returns once it is stored; from then on it is the cluster's promise, as after ACCEPTED.
    public func startDraft(_ id: UInt64, tenant: String) async -> Result<Void, DraftProblem> {
        let store: any JobStore
        switch usableStore() {
        case .success(let usable): store = usable
        case .failure(let problem): return .failure(problem)
        }
        guard draftsInProgress.claim("job \(id)") else { return .failure(Self.busy(id)) }
        defer { draftsInProgress.release("job \(id)") }
        return await startDraftHoldingClaim(id, tenant: tenant, store)
    }

    private func startDraftHoldingClaim(
        _ id: UInt64, tenant: String, _ store: any JobStore
    ) async -> Result<Void, DraftProblem> {
        let draft: JobDraft
        let source: JobDraft.Source
        let bytes: ByteBuffer
        do throws(StoreError) {
            guard let found = try await store.draft(id, tenant: tenant) else {
                return .failure(try await startedOrMissing(id, tenant: tenant, store))
            }
            if found.source == nil, found.sourceType == .s3Presigned, let objects, objects.workersDirect {
                return await startInObjectStore(found, objects)
            }
            if found.source == nil, found.sourceType != .upload {
                let problem =
                    found.sourceType == .url
                    ? await takeURLSource(found, store) : await takeUploadedObject(found, store)
                if let problem { return .failure(problem) }
                return await startDraftHoldingClaim(id, tenant: tenant, store)
            }
            guard let uploaded = found.source else {
                return .failure(.sourceMissing("job \(id) has no source yet: upload it before starting the job"))
            }
            (draft, source) = (found, uploaded)
            bytes = try await store.blob(uploaded.sha256)
        } catch {
            return .failure(.refused(ProtocolError(.storageError, "the job could not be read: \(error.message)")))
        }
        return await admit(draft, source: source, bytes: bytes)
    }

    /// Starts an `s3_presigned` draft whose source stays in the object store: a worker that can reach it reads it
    /// there and stores the variants beside it (ASSIGN_OBJECT), so none of those bytes pass through here.
    private func startInObjectStore(_ draft: JobDraft, _ objects: ObjectStorage) async -> Result<Void, DraftProblem> {
        switch await uploadedSize(of: draft) {
        case .failure(let problem):
            return .failure(problem)
        case .success(let size):
            return await admit(
                draft, source: JobDraft.Source(sha256: [], size: size), bytes: ByteBuffer(),
                sourceObject: objects.sourceKey(tenant: draft.tenant, job: draft.id))
        }
    }

    private func admit(
        _ draft: JobDraft, source: JobDraft.Source, bytes: ByteBuffer, sourceObject: String? = nil
    ) async -> Result<Void, DraftProblem> {
        let refusal = await withCheckedContinuation { continuation in
            admitDraft(draft, source: source, bytes: bytes, sourceObject: sourceObject, continuation)?.send()
        }
        return refusal.map { .failure(.refused($0)) } ?? .success(())
    }

    /// Admits and stores the draft in one step under the lock; `continuation` gets nil once its admission has
    /// committed, or the error that refused it. Returns the step's deliveries.
    private func admitDraft(
        _ draft: JobDraft, source: JobDraft.Source, bytes: ByteBuffer, sourceObject: String?,
        _ continuation: CheckedContinuation<ProtocolError?, Never>
    ) -> Deliveries? {
        let now = NIODeadline.now()
        return shared.withLock { shared -> Deliveries? in
            guard !shared.cluster.isLive(draft.id) else {
                continuation.resume(returning: ProtocolError(.invalidRequest, "job \(draft.id) was started already"))
                return nil
            }
            let submit = Submit(
                mode: .async, priority: draft.priority, idempotencyKey: draft.idempotencyKey,
                webhookURL: draft.webhookURL, sourceSize: source.size, pipeline: draft.pipeline)
            // A job whose data stays in the object store runs only on a worker that reaches it (ASSIGN_OBJECT).
            let formats = sourceObject == nil ? draft.formats : draft.formats.union(.objects)
            switch shared.cluster.admit(
                tenant: draft.tenant, submit: submit, variantCount: draft.variantCount, formats: formats,
                subscriber: nil, id: draft.id, now: now)
            {
            case .rejected(let error):
                continuation.resume(returning: error)
                return nil
            case .duplicate(let earlier, _):
                continuation.resume(returning: Self.keyConflict(draft.idempotencyKey, job: earlier))
                return nil
            case .admitted:
                commitWaiters.wait(for: draft.id) { continuation.resume(returning: $0) }
                let taskSource =
                    sourceObject.map { TaskSource.object(key: $0) }
                    ?? .chunks(PayloadAssembler.chunks(of: bytes, size: Int(settings.limits.maxChunkData)))
                let actions = shared.cluster.sourceReceived(
                    draft.id, source: taskSource, bytes: bytes, digest: source.sha256,
                    submitter: Subscriber(connection: CommitWaiters.connection, stream: 0), now: now)
                shared.cluster.draftStarted(draft.id)
                return settle(route(actions, in: shared), in: &shared)
            }
        }
    }

    // MARK: Helpers

    /// The store, or why the HTTP API's jobs cannot be kept now.
    func usableStore() -> Result<any JobStore, DraftProblem> {
        guard let store else {
            return .failure(
                .refused(
                    ProtocolError(
                        .unavailable, "the HTTP API keeps its jobs in the job store, and this coordinator has none")
                ))
        }
        if let problem = shared.withLock({ $0.cluster.storeProblem }) {
            return .failure(
                .refused(
                    ProtocolError(
                        .storageError, "jobs cannot be stored now: \(problem)", retryAfterMilliseconds: 1_000)))
        }
        return .success(store)
    }

    /// What SUBMIT checks before the pipeline: the webhook URL and the tenant's right to one, the key's size; and
    /// that this coordinator can get the source the way the request says.
    private func checkDraft(_ request: DraftRequest) -> ProtocolError? {
        switch request.sourceType {
        case .upload: break
        case .s3Presigned where objects == nil:
            return ProtocolError(
                .invalidRequest,
                "source_type s3_presigned needs an object store (objects.s3), and this coordinator has none; "
                    + "use source_type upload and PUT /v1/jobs/{id}/source")
        case .s3Presigned: break
        case .url:
            if let problem = SourceFetcher.problem(with: request.sourceURL) {
                return ProtocolError(.invalidRequest, problem)
            }
        }
        if request.idempotencyKey.utf8.count > Self.maxIdempotencyKeyBytes {
            return ProtocolError(.invalidRequest, "idempotency_key is longer than \(Self.maxIdempotencyKeyBytes) bytes")
        }
        if let problem = WebhookURL.problem(with: request.webhookURL) { return ProtocolError(.invalidRequest, problem) }
        if !request.webhookURL.isEmpty, let policy = tenantPolicies[request.tenant],
            let problem = shared.withLock({ $0.cluster.webhookProblem(policy) })
        {
            return ProtocolError(.invalidRequest, problem)
        }
        return nil
    }

    private func takeJobID() -> JobID {
        let (id, deliveries) = shared.withLock { shared in
            let id = shared.cluster.takeJobID()
            return (id, settle(Deliveries(), in: &shared))  // the id block's reservation, if one is due
        }
        deliveries.send()
        return id
    }

    /// A draft that is not there: started already (409) or never the tenant's (404).
    func startedOrMissing(
        _ id: UInt64, tenant: String, _ store: any JobStore
    ) async throws(StoreError) -> DraftProblem {
        if try await store.job(id, tenant: tenant) != nil || shared.withLock({ $0.cluster.isLive(id) }) {
            return .conflict("job \(id) was started already")
        }
        return .refused(ProtocolError(.notFound, "job \(id) not found"))
    }

    static func busy(_ id: UInt64) -> DraftProblem {
        .conflict("another request is changing job \(id) at this moment")
    }

    private static func keyConflict(_ key: String, job: UInt64) -> ProtocolError {
        ProtocolError(.idempotencyConflict, "idempotency key '\(key)' names job \(job), created with another request")
    }

    static func unixMilliseconds() -> Int64 { WebhookDispatcher.unixMilliseconds() }
}
