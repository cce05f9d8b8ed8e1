import Foundation
import GRDB
import NIOCore
import PixelFlowProtocol

/// Reading drafts: one by id, a page of a tenant's, and what an idempotency key already names.
extension SQLiteJobStore {
    public func draft(_ id: UInt64, tenant: String) async throws(StoreError) -> JobDraft? {
        try await reading("read draft \(id)") { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM drafts WHERE id = ? AND tenant = ?", arguments: [Int64(bitPattern: id), tenant]
            ).map(Self.draft(from:))
        }
    }

    public func lookup(_ id: UInt64, tenant: String) async throws(StoreError) -> StoredLookup? {
        try await reading("read job \(id)") { db -> StoredLookup? in
            let key = Int64(bitPattern: id)
            // Cached statements: an answer to GET /v1/jobs/{id} should not parse SQL.
            let jobs = try db.cachedStatement(sql: "SELECT * FROM jobs WHERE id = ? AND tenant = ?")
            if let job = try Row.fetchOne(jobs, arguments: [key, tenant]).map(Self.job(from:)) {
                let variants = try db.cachedStatement(sql: "SELECT * FROM variants WHERE job_id = ? ORDER BY seq")
                return .job(job, variants: try Row.fetchAll(variants, arguments: [key]).map(Self.variant(from:)))
            }
            let drafts = try db.cachedStatement(sql: "SELECT * FROM drafts WHERE id = ? AND tenant = ?")
            return try Row.fetchOne(drafts, arguments: [key, tenant]).map { .draft(Self.draft(from: $0)) }
        }
    }

    public func drafts(tenant: String?, beforeID: UInt64, limit: Int) async throws(StoreError) -> [JobDraft] {
        let before = beforeID == 0 || beforeID > UInt64(Int64.max) ? Int64.max : Int64(beforeID)
        return try await reading("list drafts") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM drafts WHERE (?1 IS NULL OR tenant = ?1) AND id < ?2 ORDER BY id DESC LIMIT ?3
                    """, arguments: [tenant, before, limit]
            ).map(Self.draft(from:))
        }
    }

    public func jobOrDraft(
        idempotencyKey: String, tenant: String
    ) async throws(StoreError) -> (job: StoredJob?, draft: JobDraft?) {
        try await reading("look up an idempotency key") { db in
            let draft = try Row.fetchOne(
                db, sql: "SELECT * FROM drafts WHERE tenant = ? AND idempotency_key = ?",
                arguments: [tenant, idempotencyKey]
            ).map(Self.draft(from:))
            let job = try Row.fetchOne(
                db, sql: "SELECT * FROM jobs WHERE tenant = ? AND idempotency_key = ? ORDER BY id DESC LIMIT 1",
                arguments: [tenant, idempotencyKey]
            ).map(Self.job(from:))
            return (job, draft)
        }
    }

    static func draft(from row: Row) -> JobDraft {
        let pipeline: Data = row["pipeline"]
        let formats: Int64 = row["formats"]
        let sha: Data? = row["source_sha256"]
        let size: Int64? = row["source_size"]
        let source = sha.map { JobDraft.Source(sha256: [UInt8]($0), size: UInt64(bitPattern: size ?? 0)) }
        return JobDraft(
            id: UInt64(bitPattern: row["id"] as Int64), tenant: row["tenant"],
            priority: UInt8(clamping: row["priority"] as Int), pipeline: ByteBuffer(bytes: pipeline),
            variantCount: row["variant_count"], formats: OutputFormats(rawValue: UInt32(clamping: formats)),
            sourceType: JobDraft.SourceType(rawValue: UInt8(clamping: row["source_type"] as Int)) ?? .upload,
            sourceURL: row["source_url"], webhookURL: row["webhook_url"], idempotencyKey: row["idempotency_key"],
            source: source, createdAt: row["created_at"], expiresAt: row["expires_at"])
    }
}
