import NIOCore
import PixelFlowProtocol
import PixelFlowStore

/// What the HTTP API reads: a job or draft, a page of them, a stored variant's bytes, a span of usage.
extension Coordinator {
    /// One entry of a job list: a draft, or a stored job with its number of stored variants.
    public enum ListedJob: Sendable {
        case draft(JobDraft)
        case job(StoredJob, storedVariants: Int)

        public var id: UInt64 {
            switch self {
            case .draft(let draft): draft.id
            case .job(let job, _): job.id
            }
        }
    }

    /// Which jobs a list shows: drafts only, stored jobs in one state, or both (nil).
    public enum ListFilter: Sendable, Hashable {
        case drafts
        case state(JobStatus.State)
    }

    /// A job as the HTTP API shows it: a stored job with the variants it stored, or a draft not started yet.
    /// An ended job is answered from memory while it has not expired (it changes only when deleted, which forgets
    /// it here too).
    public func lookupJob(_ id: UInt64, tenant: String) async -> Result<StoredLookup, ProtocolError> {
        guard let store else { return .failure(ProtocolError(.notFound, "job \(id) not found (no job store)")) }
        let now = Self.unixMilliseconds()
        if let cached = endedJobs.withLock({ $0[id] }), cached.tenant == tenant,
            case .job(let job, _) = cached.lookup, (job.expiresAt ?? .max) > now
        {
            return .success(cached.lookup)
        }
        let deletions = jobDeletions.load(ordering: .acquiring)
        do throws(StoreError) {
            guard let found = try await store.lookup(id, tenant: tenant) else {
                return .failure(ProtocolError(.notFound, "job \(id) not found"))
            }
            if settings.apiCachedJobs > 0, case .job(let job, _) = found, job.state.isTerminal {
                endedJobs.withLock { cache in
                    // A deletion that ended meanwhile may have removed what this read saw.
                    guard jobDeletions.load(ordering: .acquiring) == deletions else { return }
                    cache.insert((tenant, found), for: id)
                }
            }
            return .success(found)
        } catch {
            return .failure(ProtocolError(.storageError, "job \(id) cannot be read: \(error.message)"))
        }
    }

    /// The tenant's jobs and drafts newest first, with ids below `beforeID` (0: from the newest); at most `limit`,
    /// and whether more follow.
    public func listJobs(
        tenant: String, filter: ListFilter?, beforeID: UInt64, limit: Int
    ) async -> Result<(jobs: [ListedJob], more: Bool), ProtocolError> {
        guard let store else { return .success(([], false)) }
        do throws(StoreError) {
            var listed: [ListedJob] = []
            if filter != .drafts {
                let state: JobStatus.State? = if case .state(let state) = filter { state } else { nil }
                listed += try await store.jobs(tenant: tenant, state: state, beforeID: beforeID, limit: limit + 1)
                    .map { .job($0.job, storedVariants: $0.storedVariants) }
            }
            if filter == nil || filter == .drafts {
                listed += try await store.drafts(tenant: tenant, beforeID: beforeID, limit: limit + 1).map {
                    .draft($0)
                }
            }
            listed.sort { $0.id > $1.id }
            return .success((Array(listed.prefix(limit)), listed.count > limit))
        } catch {
            return .failure(ProtocolError(.storageError, "jobs cannot be listed: \(error.message)"))
        }
    }

    /// A stored variant and its bytes, held in the FETCH byte budget (`limits.max_fetch_bytes`) while the caller
    /// sends them: give `held` back to `releaseVariantBytes` once they are written.
    /// A stored variant's bytes, or where to get them.
    public enum VariantBody: Sendable {
        /// Read from the blob store, held in the FETCH byte budget until `releaseVariantBytes(held)`.
        case bytes(StoredVariant, ByteBuffer, held: UInt64)
        /// In the object store: a presigned GET.
        case objectURL(String)
    }

    public func variantBytes(
        job id: UInt64, variant variantID: String, tenant: String
    ) async -> Result<VariantBody, ProtocolError> {
        guard let store else { return .failure(ProtocolError(.notFound, "job \(id) not found (no job store)")) }
        do throws(StoreError) {
            guard try await store.job(id, tenant: tenant) != nil else {
                return .failure(ProtocolError(.notFound, "job \(id) not found"))
            }
            guard let variant = try await store.variants(of: id).first(where: { $0.variantID == variantID }) else {
                return .failure(ProtocolError(.notFound, "job \(id) has no stored variant '\(variantID)'"))
            }
            if variant.objectKey != nil {
                guard let url = variantURL(variant) else {
                    return .failure(
                        ProtocolError(
                            .storageError, "variant '\(variantID)' is in an object store this coordinator no longer has"
                        ))
                }
                return .success(.objectURL(url))
            }
            let held = await fetchBudget.acquire(variant.size)
            do throws(StoreError) {
                return .success(.bytes(variant, try await store.blob(variant.sha256), held: held))
            } catch {
                fetchBudget.release(held)
                throw error
            }
        } catch {
            return .failure(ProtocolError(.storageError, "variant '\(variantID)' cannot be read: \(error.message)"))
        }
    }

    /// A presigned GET of a variant in the object store (valid for `objects.s3.presign_ttl`); nil for one in the
    /// blob store, or when this coordinator has no object store.
    public func variantURL(_ variant: StoredVariant) -> String? {
        guard let key = variant.objectKey, let objects else { return nil }
        return objects.presign("GET", key: key, ttl: objects.presignTTL).url
    }

    /// Gives back what `variantBytes` held.
    public func releaseVariantBytes(_ held: UInt64) {
        fetchBudget.release(held)
    }

    /// The tenant's hourly usage from `since` (Unix seconds) on, every page of it (an operator key: every tenant's).
    public func usage(since: UInt64, tenant: String) async -> Result<[UsageReport.Bucket], ProtocolError> {
        var buckets: [UsageReport.Bucket] = []
        var request = UsageRequest(since: since, limit: UsageRequest.maxLimit)
        while true {
            switch await usageReport(request, tenant: tenant) {
            case .failure(let error): return .failure(error)
            case .success(let page):
                buckets += page.buckets
                guard page.more, let last = page.buckets.last else { return .success(buckets) }
                request.afterHour = last.hour
                request.afterTenant = last.tenant
            }
        }
    }

    /// The tenant whose HTTP API token this is (compared as SHA-256 digests, in constant time), or nil.
    public func tenant(forAPIToken token: String) -> String? {
        let digest = SHA256Digest.of(ByteBuffer(string: token))
        var found: String?
        for policy in tenantPolicies.values {
            guard let expected = policy.apiTokenSHA256 else { continue }
            if ConstantTime.equal(expected, digest) { found = policy.keyID }
        }
        return found
    }
}
