import Foundation
import NIOCore
import PixelFlowProtocol
import PixelFlowStore

/// DELETE /v1/jobs/{id} of the HTTP API: cancel if need be, then delete, behind every write already queued.
extension Coordinator {
    /// DELETE /v1/jobs/{id}: a job that has not ended is cancelled as CANCEL does (its webhook, if any, still
    /// tells so), then the job is deleted with its results; a draft is deleted. Answered once that is stored, with
    /// the state the job was left in (`cancelled` for a draft).
    public func deleteJob(_ id: UInt64, tenant: String) async -> Result<JobStatus.State, DraftProblem> {
        let store: any JobStore
        switch usableStore() {
        case .success(let usable): store = usable
        case .failure(let problem): return .failure(problem)
        }
        guard draftsInProgress.claim("job \(id)") else { return .failure(Self.busy(id)) }
        defer { draftsInProgress.release("job \(id)") }
        do throws(StoreError) {
            if let draft = try await store.draft(id, tenant: tenant) {
                try await store.commit([.deleteDraft(job: id)])
                // An upload to its presigned URL may have happened: it goes too. If the object store is down now, a
                // lifecycle rule on the bucket is the backstop, as for drafts that expire (docs/http-api.md).
                if let key = sourceKey(draft), draft.sourceType == .s3Presigned {
                    try? await objects?.client.delete(key: key)
                }
                return .success(.cancelled)
            }
            let stored = try await store.job(id, tenant: tenant)
            // Through the step queue, behind every write about the job already queued (its last variant, its end).
            let (state, refusal) = await withCheckedContinuation { continuation in
                queueDeletion(id, tenant: tenant, stored: stored?.state, continuation)?.send()
            }
            if let refusal { return .failure(.refused(refusal)) }
            guard let state else { return .failure(.refused(ProtocolError(.notFound, "job \(id) not found"))) }
            endedJobs.withLock { cache in
                cache.remove(id)
                jobDeletions.add(1, ordering: .releasing)
            }
            guard try await store.job(id, tenant: tenant) == nil else {
                return .failure(.refused(ProtocolError(.storageError, "job \(id) could not be deleted")))
            }
            return .success(state)
        } catch {
            return .failure(.refused(ProtocolError(.storageError, "job \(id) could not be deleted: \(error.message)")))
        }
    }

    /// Cancels the job if it is live, and queues its deletion; `continuation` gets the state it was left in (nil
    /// when the tenant has no such job) once that commits.
    private func queueDeletion(
        _ id: UInt64, tenant: String, stored: JobStatus.State?,
        _ continuation: CheckedContinuation<(JobStatus.State?, ProtocolError?), Never>
    ) -> Deliveries? {
        let now = NIODeadline.now()
        return shared.withLock { shared -> Deliveries? in
            let (status, actions) = shared.cluster.cancel(id, tenant: tenant, now: now)
            guard let state = status?.state ?? stored else {
                continuation.resume(returning: (nil, nil))
                return nil
            }
            shared.cluster.jobDeleted(id)
            var deliveries = route(actions, in: shared)
            let waiters = CommitWaiters()
            waiters.wait(for: id) { continuation.resume(returning: (state, $0)) }
            deliveries.answer(waiters, id, nil)
            return settle(deliveries, in: &shared)
        }
    }
}
