import Foundation
import GRDB
import NIOCore

/// How the draft writes change the tables. A draft holds one reference to its uploaded source, given up when it is
/// started (the job's `admit` takes its own), deleted, given another source or left to expire.
extension SQLiteWrites {
    static func applyDraft(_ write: StoreWrite, _ db: Database, blobs: BlobDirectory, inlineMax: Int) throws {
        switch write {
        case .createDraft(let draft):
            try db.cachedStatement(
                sql: """
                    INSERT INTO drafts (id, tenant, priority, pipeline, variant_count, formats, source_type, source_url,
                        webhook_url, idempotency_key, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                Int64(bitPattern: draft.id), draft.tenant, Int(draft.priority), data(draft.pipeline),
                draft.variantCount, Int64(draft.formats.rawValue), Int(draft.sourceType.rawValue), draft.sourceURL,
                draft.webhookURL, draft.idempotencyKey, draft.createdAt, draft.expiresAt,
            ])
        case .attachDraftSource(let job, let source, let bytes):
            guard
                try Row.fetchOne(db, sql: "SELECT 1 FROM drafts WHERE id = ?", arguments: [Int64(bitPattern: job)])
                    != nil
            else { return }  // started or cancelled meanwhile: the upload is too late
            try releaseDraftSource(job, db)
            try addReference(to: bytes, sha256: source.sha256, db, blobs: blobs, inlineMax: inlineMax)
            try db.cachedStatement(sql: "UPDATE drafts SET source_sha256 = ?, source_size = ? WHERE id = ?")
                .execute(arguments: [Data(source.sha256), Int64(bitPattern: source.size), Int64(bitPattern: job)])
        case .startDraft(let job):
            try releaseDraftSource(job, db)
            try db.cachedStatement(sql: "DELETE FROM drafts WHERE id = ?").execute(arguments: [Int64(bitPattern: job)])
        case .deleteDraft(let job):
            try releaseDraftSource(job, db)
            try db.cachedStatement(sql: "DELETE FROM drafts WHERE id = ?").execute(arguments: [Int64(bitPattern: job)])
        default:
            preconditionFailure("not a draft write: \(write)")
        }
    }

    /// Drops the draft's hold on the source it had, if any.
    private static func releaseDraftSource(_ job: UInt64, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                UPDATE blobs SET refs = refs - 1
                WHERE sha256 = (SELECT source_sha256 FROM drafts WHERE id = ? AND source_sha256 IS NOT NULL)
                """
        ).execute(arguments: [Int64(bitPattern: job)])
    }

    /// Deletes up to `limit` drafts never started by `now`, with their holds on sources; returns the count.
    static func deleteExpiredDrafts(now: Int64, limit: Int, _ db: Database) throws -> Int {
        let ids = try Int64.fetchAll(
            db, sql: "SELECT id FROM drafts WHERE expires_at <= ? LIMIT ?", arguments: [now, limit])
        for id in ids {
            try releaseDraftSource(UInt64(bitPattern: id), db)
            try db.execute(sql: "DELETE FROM drafts WHERE id = ?", arguments: [id])
        }
        return ids.count
    }
}
