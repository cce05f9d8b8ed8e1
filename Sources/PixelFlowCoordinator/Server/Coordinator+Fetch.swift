import Logging
import NIOCore
import PixelFlowObjects
import PixelFlowProtocol
import PixelFlowStore

/// FETCH on the coordinator's side: what a finished job stored, read from the store a variant at a time.
extension Coordinator {
    /// A finished job's stored variants (without their bytes) and outcome: `not_found` when the tenant has no such
    /// stored job (or this coordinator has no store), `unavailable` while it runs, `storage_error` when the store
    /// cannot be read.
    func storedResult(of id: JobID, tenant: String) async -> Result<StoredResult, ProtocolError> {
        guard let store else {
            return .failure(ProtocolError(.notFound, "job \(id): this coordinator keeps no results (no job store)"))
        }
        do throws(StoreError) {
            guard let job = try await store.job(id, tenant: tenant) else {
                return .failure(
                    ProtocolError(
                        .notFound,
                        "no stored results of job \(id) for this tenant (kept for async jobs, for jobs.result_ttl)"))
            }
            guard job.state != .queued && job.state != .running else {
                return .failure(
                    ProtocolError(
                        .unavailable, "job \(id) has not ended on this coordinator", retryAfterMilliseconds: 1_000))
            }
            return .success(StoredResult(variants: try await store.variants(of: id), outcome: job.outcome))
        } catch {
            return .failure(storedResultUnreadable(id, error))
        }
    }

    /// One stored variant's bytes, checked against its size and hash; or read from the object store (a FETCH asks
    /// for the bytes themselves: the binary protocol has no URLs).
    func storedVariantBytes(_ variant: StoredVariant) async -> Result<ByteBuffer, ProtocolError> {
        guard let store else {
            return .failure(ProtocolError(.notFound, "this coordinator keeps no results (no job store)"))
        }
        if let key = variant.objectKey {
            guard let objects else {
                return .failure(
                    ProtocolError(
                        .storageError, "job \(variant.jobID)'s results are in an object store no longer configured"))
            }
            do throws(ObjectStoreError) {
                return .success(try await objects.client.get(key: key, size: Int(clamping: variant.size)))
            } catch {
                logger.error("job \(variant.jobID): variant \(key) cannot be read from the object store: \(error)")
                return .failure(ProtocolError(.storageError, "the object store failed: \(error)"))
            }
        }
        do throws(StoreError) {
            return .success(try await store.blob(variant.sha256))
        } catch {
            return .failure(storedResultUnreadable(variant.jobID, error))
        }
    }

    private func storedResultUnreadable(_ id: JobID, _ error: StoreError) -> ProtocolError {
        logger.error("job \(id): its stored results cannot be read: \(error.message)")
        return ProtocolError(.storageError, "job \(id)'s stored results cannot be read: \(error.message)")
    }
}
