import Foundation
import NIOCore
import PixelFlowObjects
import PixelFlowProtocol
import PixelFlowStore

/// Drafts whose source is not uploaded through the API: `s3_presigned` (where it is uploaded, the presigned URL to
/// upload it with) and `url`. When such a draft is started, its source is taken into the job store first, so the
/// job no longer depends on where it came from.
extension Coordinator {
    /// Where an `s3_presigned` draft's source is uploaded: `<prefix>/<tenant>/<job_id>/source`.
    func sourceKey(_ draft: JobDraft) -> String? {
        objects?.sourceKey(tenant: draft.tenant, job: draft.id)
    }

    /// The presigned PUT a client uploads an `s3_presigned` draft's source with, and when it expires (Unix ms);
    /// nil for other drafts.
    public func uploadURL(for draft: JobDraft) -> (url: String, expiresAt: Int64)? {
        guard draft.sourceType == .s3Presigned, let objects, let key = sourceKey(draft) else { return nil }
        return objects.presign("PUT", key: key, ttl: objects.presignTTL)
    }

    /// Reads an `s3_presigned` draft's uploaded object (bounded by `limits.max_source_bytes`) into the blob store
    /// as its source, so the job no longer depends on the object store. Nil when done, else why not.
    func takeUploadedObject(_ draft: JobDraft, _ store: any JobStore) async -> DraftProblem? {
        let size: UInt64
        switch await uploadedSize(of: draft) {
        case .success(let found): size = found
        case .failure(let problem): return problem
        }
        guard let objects, let key = sourceKey(draft) else { return nil }  // uploadedSize found both
        do throws(ObjectStoreError) {
            let bytes = try await objects.client.get(key: key, size: Int(clamping: size))
            return await keepSource(bytes, of: draft.id, store).failure
        } catch {
            return Self.objectStoreFailed(error)
        }
    }

    /// The size of an `s3_presigned` draft's uploaded source, checked: there, not empty, within
    /// `limits.max_source_bytes`.
    func uploadedSize(of draft: JobDraft) async -> Result<UInt64, DraftProblem> {
        guard let objects, let key = sourceKey(draft) else {
            return .failure(.refused(ProtocolError(.unavailable, "this coordinator has no object store (objects.s3)")))
        }
        let limit = settings.limits.maxSourceBytes
        do throws(ObjectStoreError) {
            guard let size = try await objects.client.size(key: key) else {
                return .failure(
                    .sourceMissing(
                        "job \(draft.id) has no source yet: PUT it to its upload URL before starting the job"))
            }
            guard size > 0 else {
                return .failure(.refused(ProtocolError(.undecodableImage, "the uploaded source is empty")))
            }
            guard size <= limit else {
                return .failure(
                    .refused(
                        ProtocolError(
                            .sourceTooLarge, "the uploaded source of \(size) bytes is over the limit of \(limit)")))
            }
            return .success(size)
        } catch {
            return .failure(Self.objectStoreFailed(error))
        }
    }

    static func objectStoreFailed(_ error: ObjectStoreError) -> DraftProblem {
        .refused(ProtocolError(.storageError, "the object store failed: \(error)", retryAfterMilliseconds: 1_000))
    }

    /// Fetches a `url` draft's `source_url` (with the SSRF guard, redirects checked hop by hop, bounded by
    /// `limits.max_source_bytes`) into the blob store as its source. Nil when done, else why not.
    func takeURLSource(_ draft: JobDraft, _ store: any JobStore) async -> DraftProblem? {
        let bytes: ByteBuffer
        switch await sourceFetcher.fetch(draft.sourceURL, limit: settings.limits.maxSourceBytes) {
        case .success(let fetched): bytes = fetched
        case .failure(.refused(let reason)): return .refused(ProtocolError(.invalidRequest, reason))
        case .failure(.unavailable(let reason)): return .sourceUnavailable(reason)
        case .failure(.tooLarge(let reason)): return .refused(ProtocolError(.sourceTooLarge, reason))
        }
        return await keepSource(bytes, of: draft.id, store).failure
    }

    /// Stores `bytes` as the draft's source (content-addressed; replacing any earlier one).
    func keepSource(
        _ bytes: ByteBuffer, of id: UInt64, _ store: any JobStore
    ) async -> Result<JobDraft.Source, DraftProblem> {
        let source = JobDraft.Source(sha256: SHA256Digest.of(bytes), size: UInt64(bytes.readableBytes))
        do throws(StoreError) {
            try await store.commit([.attachDraftSource(job: id, source, bytes: bytes)])
            return .success(source)
        } catch {
            return .failure(.refused(ProtocolError(.storageError, "the source could not be stored: \(error.message)")))
        }
    }
}

extension Result {
    /// The error, or nil on success.
    var failure: Failure? {
        guard case .failure(let error) = self else { return nil }
        return error
    }
}
