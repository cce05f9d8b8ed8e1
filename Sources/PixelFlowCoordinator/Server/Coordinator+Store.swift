import Foundation
import Logging
import NIOCore
import PixelFlowObjects
import PixelFlowProtocol
import PixelFlowStore

/// The coordinator's side of durability: holding a step's deliveries behind its store writes, and the writer
/// that commits them in batches (group commit: whatever queued during one commit forms the next transaction).
extension Coordinator {
    /// Ends a step under the lock: its store writes are queued, and its deliveries held behind them (and behind
    /// anything already held). Returns what may be sent now.
    func settle(_ deliveries: Deliveries, in shared: inout Shared) -> Deliveries {
        guard store != nil else { return deliveries }
        let writes = shared.cluster.takeStoreWrites()
        if writes.isEmpty && shared.storeQueue.isIdle { return deliveries }
        shared.storeQueue.append(writes, deliveries)
        storeSignal.yield()
        return Deliveries()
    }

    /// Commits queued steps until shutdown ends the signal stream, then commits what is left.
    func runStoreWriter() async {
        guard let store else { return }
        for await _ in storeSignals {
            await flushStore(store)
        }
        await flushStore(store)
    }

    /// Stops the writer once it has committed everything queued.
    func finishStoreWriter() { storeSignal.finish() }

    private func flushStore(_ store: any JobStore) async {
        while let batch = shared.withLock({ $0.storeQueue.takeBatch(maxWrites: settings.maxPendingStoreWrites) }) {
            var failure: StoreError?
            do {
                try await store.commit(batch.writes)
            } catch {
                failure = error
                logger.error("job store: \(error.message)")
            }
            let now = NIODeadline.now()
            let deliveries = shared.withLock { shared in
                var deliveries = batch.deliveries
                let admitted = batch.writes.compactMap { write -> JobID? in
                    guard case .admit(let job, _) = write else { return nil }
                    return job.id
                }
                let actions: [ClusterAction]
                if let failure {
                    shared.cluster.setStoreProblem(failure.message)
                    let others = Set(batch.writes.compactMap(\.jobID)).subtracting(admitted)
                    actions =
                        shared.cluster.persistFailed(admitted, reason: failure.message, now: now)
                        + shared.cluster.storageFailed(others.sorted(), reason: failure.message, now: now)
                } else {
                    if !batch.writes.isEmpty { shared.cluster.setStoreProblem(nil) }
                    actions = shared.cluster.persisted(admitted, now: now)
                }
                let routed = route(actions, in: shared)
                let writes = shared.cluster.takeStoreWrites()
                if writes.isEmpty && !shared.storeQueue.hasSteps {
                    deliveries.append(contentsOf: routed)
                } else {
                    shared.storeQueue.append(writes, routed)
                }
                shared.reportIfDrained(into: &deliveries)
                return deliveries
            }
            deliveries.send()
        }
    }

    /// Every second: while the store is failing, a probe write (readiness comes back when one succeeds); every
    /// `expirySweepInterval`, deletes jobs whose results expired. Ends when the task is cancelled.
    func runStoreMaintenance() async {
        guard let store else { return }
        var nextSweep = ContinuousClock.now
        while !Task.isCancelled {
            if shared.withLock({ $0.cluster.storeProblem }) != nil {
                do {
                    try await store.probe()
                    shared.withLock { $0.cluster.setStoreProblem(nil) }
                    logger.notice("job store: writable again")
                } catch {
                    logger.debug("job store still failing: \(error.message)")
                }
            }
            if ContinuousClock.now >= nextSweep {
                nextSweep = ContinuousClock.now + .milliseconds(settings.expirySweepInterval.milliseconds)
                await deleteExpiredJobs(store)
                await deleteOldUsage(store)
            }
            if let objects { await deleteObjects(store, objects) }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Deletes from the object store what deleted jobs left there (queued in the store with their deletion, so a
    /// restart or an object store that is down loses none); what fails is tried again the next second.
    private func deleteObjects(_ store: any JobStore, _ objects: ObjectStorage) async {
        guard let keys = try? await store.pendingObjectDeletions(limit: 200), !keys.isEmpty else { return }
        var deleted: [String] = []
        for key in keys {
            do throws(ObjectStoreError) {
                try await objects.client.delete(key: key)
                deleted.append(key)
            } catch {
                logger.warning("object store: \(key) not deleted yet: \(error)")
                break
            }
        }
        do {
            try await store.objectsDeleted(deleted)
        } catch {
            logger.error("job store: object deletions not recorded: \(error.message)")
        }
        if !deleted.isEmpty { logger.info("object store: deleted \(deleted.count) objects of deleted jobs") }
    }

    private func deleteExpiredJobs(_ store: any JobStore) async {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var deleted = 0
        do {
            while true {
                let count = try await store.deleteExpired(now: now, limit: 500)
                deleted += count
                if count < 500 || Task.isCancelled { break }
            }
        } catch {
            logger.error("job store: deleting expired jobs failed: \(error.message)")
        }
        if deleted > 0 { logger.info("job store: deleted \(deleted) expired jobs and their results") }
    }
}

extension ClusterState {
    /// A variant of a stored job, decoded and hashed for the store; it is relayed once this write commits.
    mutating func recordVariant(_ header: VariantHeader, chunks: [Chunk]) throws(ProtocolError) {
        var bytes = ByteBuffer()
        bytes.reserveCapacity(Int(clamping: header.size))
        for chunk in chunks {
            var decoded = try chunk.decoded()
            bytes.writeBuffer(&decoded)
        }
        storeWrites.append(.variant(StoredVariant(header, sha256: SHA256Digest.of(bytes)), bytes: bytes))
    }

    /// A variant of a stored job that its worker put in the object store at `key`.
    mutating func recordObjectVariant(_ header: VariantHeader, key: String) {
        storeWrites.append(.variant(StoredVariant(header, objectKey: key), bytes: ByteBuffer()))
    }

    /// The tenant of a job that has not ended.
    func tenant(of id: JobID) -> String? { jobs[id]?.tenant }
}

extension Coordinator {
    /// JOBS_REQUEST: a page of the tenant's stored jobs, newest first (an operator key sees every tenant's), as
    /// many as fit one control frame. `not_found` without a store: only stored jobs are listed.
    func jobList(_ request: JobsRequest, tenant: String) async -> Result<JobList, ProtocolError> {
        guard let store else {
            return .failure(ProtocolError(.notFound, "this coordinator keeps no job list (no job store)"))
        }
        do throws(StoreError) {
            let rows = try await store.jobs(
                tenant: isAdmin(tenant) ? nil : tenant, state: request.state, beforeID: request.beforeJobID,
                limit: Int(request.limit) + 1)
            var list = JobList(jobs: [])
            var size = 10  // next_before_job_id and count
            let budget = Int(settings.limits.maxControlPayload)
            for (index, row) in rows.enumerated() {
                guard index < Int(request.limit) else {
                    list.nextBeforeJobID = list.jobs.last?.jobID ?? 0
                    break
                }
                let entry = Self.listEntry(row.job, storedVariants: row.storedVariants)
                let entrySize = 8 + 2 + entry.tenant.utf8.count + 1 + 2 + 2 + 2 + 8 + 8 + 2 + entry.message.utf8.count
                guard size + entrySize <= budget else {
                    list.nextBeforeJobID = list.jobs.last?.jobID ?? 0
                    break
                }
                size += entrySize
                list.jobs.append(entry)
            }
            return .success(list)
        } catch {
            return .failure(ProtocolError(.storageError, "the job list cannot be read: \(error.message)"))
        }
    }

    private static func listEntry(_ job: StoredJob, storedVariants: Int) -> JobList.Job {
        var message = job.state == .failed ? job.message : ""
        if message.utf8.count > 160 {  // keeps a page of 200 within the default control frame
            message = String(decoding: message.utf8.prefix(157), as: UTF8.self) + "…"
        }
        return JobList.Job(
            jobID: job.id, tenant: job.tenant, state: job.state, attempts: job.attempt,
            variants: UInt16(clamping: storedVariants), code: job.state == .failed ? job.code : .none,
            admittedAt: UInt64(max(0, job.admittedAt)), endedAt: UInt64(max(0, job.finishedAt ?? 0)),
            message: message)
    }
}
