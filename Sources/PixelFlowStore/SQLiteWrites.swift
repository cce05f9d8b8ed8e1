import Foundation
import GRDB
import NIOCore
import PixelFlowProtocol

/// How each `StoreWrite` changes the tables, inside the writer's transaction.
enum SQLiteWrites {
    static func apply(_ write: StoreWrite, _ db: Database, blobs: BlobDirectory, inlineMax: Int) throws {
        switch write {
        case .admit(let job, let source):
            try db.cachedStatement(
                sql: """
                    INSERT INTO jobs (id, tenant, state, priority, pipeline, variant_count, formats, source_sha256,
                        source_size, idempotency_key, webhook_url, attempt, deadline_at, admitted_at, code, message,
                        source_object)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', ?)
                    """
            ).execute(arguments: [
                Int64(bitPattern: job.id), job.tenant, Int(job.state.rawValue), Int(job.priority), data(job.pipeline),
                job.variantCount, Int64(job.formats.rawValue), Data(job.sourceSHA256),
                Int64(bitPattern: job.sourceSize), job.idempotencyKey, job.webhookURL, Int(job.attempt),
                job.deadlineAt, job.admittedAt, job.sourceObjectKey,
            ])
            guard job.sourceObjectKey == nil else { return }  // its source stays in the object store
            try addReference(to: source, sha256: job.sourceSHA256, db, blobs: blobs, inlineMax: inlineMax)
        case .lease(let job, let attempt, let worker, let at):
            try db.cachedStatement(sql: "UPDATE jobs SET state = 1, attempt = ?, retry_at = NULL WHERE id = ?")
                .execute(arguments: [Int(attempt), Int64(bitPattern: job)])
            try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO attempts (job_id, attempt, worker, leased_at) VALUES (?, ?, ?, ?)"
            ).execute(arguments: [Int64(bitPattern: job), Int(attempt), worker, at])
        case .requeue(let job, let retryAt):
            try db.cachedStatement(sql: "UPDATE jobs SET state = 0, retry_at = ? WHERE id = ? AND state < 2")
                .execute(arguments: [retryAt, Int64(bitPattern: job)])
        case .variant(let variant, let bytes):
            try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO variants (job_id, variant_id, seq, attempt, blob_sha256, size, format, width,
                        height, elapsed_ms, object_key)
                    VALUES (?1, ?2, (SELECT count(*) FROM variants WHERE job_id = ?1), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                    """
            ).execute(arguments: [
                Int64(bitPattern: variant.jobID), variant.variantID, Int(variant.attempt), Data(variant.sha256),
                Int64(bitPattern: variant.size), variant.format, Int64(variant.width), Int64(variant.height),
                Int64(variant.elapsedMilliseconds), variant.objectKey,
            ])
            // Delivered before: the first one stands. A variant in the object store has no blob here.
            guard db.changesCount > 0, variant.objectKey == nil else { return }
            try addReference(to: bytes, sha256: variant.sha256, db, blobs: blobs, inlineMax: inlineMax)
        case .finish(let job, let state, let attempts, let code, let message, let at, let expiresAt):
            try db.cachedStatement(
                sql: """
                    UPDATE jobs SET state = ?, attempt = max(attempt, ?), code = ?, message = ?, finished_at = ?,
                        expires_at = ?, retry_at = NULL
                    WHERE id = ?
                    """
            ).execute(arguments: [
                Int(state.rawValue), Int(attempts), Int(code.rawValue), message, at, expiresAt,
                Int64(bitPattern: job),
            ])
        case .deleteJob(let job):
            try delete(job: Int64(bitPattern: job), db)
        case .reserveJobIDs(let through):
            try SQLiteJobStore.reserve(through: through, db)
        case .usage(let buckets, let sequence):
            try SQLiteJobStore.addUsage(buckets, sequence: sequence, db)
        case .createDraft, .attachDraftSource, .startDraft, .deleteDraft:
            try applyDraft(write, db, blobs: blobs, inlineMax: inlineMax)
        case .enqueueWebhook(let event):
            try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO webhook_outbox (event_id, job_id, tenant, url, body, created_at, attempts,
                        next_at, state, last_error)
                    VALUES (?, ?, ?, ?, ?, ?, 0, ?, 0, '')
                    """
            ).execute(arguments: [
                event.eventID, Int64(bitPattern: event.jobID), event.tenant, event.url, data(event.body),
                event.createdAt, event.createdAt,
            ])
        }
    }

    /// Counts one more reference to a blob, storing it first if it is new: inline up to `inlineMax` bytes, else as
    /// a file (flushed before the row that names it commits).
    static func addReference(
        to bytes: ByteBuffer, sha256: [UInt8], _ db: Database, blobs: BlobDirectory, inlineMax: Int
    ) throws {
        try db.cachedStatement(sql: "UPDATE blobs SET refs = refs + 1 WHERE sha256 = ?").execute(arguments: [
            Data(sha256)
        ])
        guard db.changesCount == 0 else { return }
        let inline = bytes.readableBytes <= inlineMax ? data(bytes) : nil
        if inline == nil { try blobs.write(bytes, sha256: sha256) }
        try db.cachedStatement(
            sql: "INSERT INTO blobs (sha256, size, inline, refs, created_at) VALUES (?, ?, ?, 1, ?)"
        ).execute(arguments: [Data(sha256), bytes.readableBytes, inline, Int64(Date().timeIntervalSince1970 * 1000)])
    }

    /// Deletes up to `limit` expired jobs with their variants, and the blobs no job names any more. Returns the
    /// count, and the blob files to unlink once this transaction has committed.
    static func deleteExpired(now: Int64, limit: Int, _ db: Database) throws -> (Int, [[UInt8]]) {
        let ids = try Int64.fetchAll(
            db, sql: "SELECT id FROM jobs WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?",
            arguments: [now, limit])
        let drafts = try deleteExpiredDrafts(now: now, limit: limit, db)
        for id in ids { try delete(job: id, db) }
        // Also the blobs a draft let go of when it was given another source.
        let files = try Data.fetchAll(db, sql: "SELECT sha256 FROM blobs WHERE refs <= 0 AND inline IS NULL")
        try db.execute(sql: "DELETE FROM blobs WHERE refs <= 0")
        return (ids.count + drafts, files.map { [UInt8]($0) })
    }

    /// Deletes a job with its variants and attempts, and its holds on blobs (swept by `deleteExpired`); its
    /// objects in the object store are queued for deletion there. An event still waiting in the webhook outbox
    /// stays, to be delivered.
    static func delete(job id: Int64, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO object_deletions (key)
                    SELECT source_object FROM jobs WHERE id = :id AND source_object IS NOT NULL
                    UNION ALL SELECT object_key FROM variants WHERE job_id = :id AND object_key IS NOT NULL;
                UPDATE blobs SET refs = refs - 1 WHERE sha256 IN (SELECT source_sha256 FROM jobs WHERE id = :id);
                UPDATE blobs SET refs = refs
                    - (SELECT count(*) FROM variants WHERE job_id = :id AND blob_sha256 = blobs.sha256)
                    WHERE sha256 IN (SELECT blob_sha256 FROM variants WHERE job_id = :id);
                DELETE FROM variants WHERE job_id = :id;
                DELETE FROM webhook_outbox WHERE job_id = :id AND state != 0;
                DELETE FROM attempts WHERE job_id = :id;
                DELETE FROM jobs WHERE id = :id;
                """, arguments: ["id": id])
    }

    static func data(_ buffer: ByteBuffer) -> Data {
        buffer.withUnsafeReadableBytes { Data($0) }
    }
}

extension SQLiteJobStore {
    static func job(from row: Row) -> StoredJob {
        let pipeline: Data = row["pipeline"]
        let sha: Data = row["source_sha256"]
        let id: Int64 = row["id"]
        let size: Int64 = row["source_size"]
        let formats: Int64 = row["formats"]
        let code: Int = row["code"]
        let state: Int = row["state"]
        return StoredJob(
            id: UInt64(bitPattern: id), tenant: row["tenant"],
            state: JobStatus.State(rawValue: UInt8(clamping: state)) ?? .failed,
            priority: UInt8(clamping: row["priority"] as Int), pipeline: ByteBuffer(bytes: pipeline),
            variantCount: row["variant_count"], formats: OutputFormats(rawValue: UInt32(clamping: formats)),
            sourceSHA256: [UInt8](sha), sourceSize: UInt64(bitPattern: size), idempotencyKey: row["idempotency_key"],
            webhookURL: row["webhook_url"], attempt: UInt16(clamping: row["attempt"] as Int),
            retryAt: row["retry_at"], admittedAt: row["admitted_at"], deadlineAt: row["deadline_at"],
            finishedAt: row["finished_at"],
            expiresAt: row["expires_at"], code: ErrorCode(rawValue: UInt16(clamping: code)), message: row["message"],
            sourceObjectKey: row["source_object"])
    }

    static func variant(from row: Row) -> StoredVariant {
        let header = VariantHeader(
            jobID: UInt64(bitPattern: row["job_id"] as Int64), attempt: UInt16(clamping: row["attempt"] as Int),
            variantID: row["variant_id"], format: row["format"], width: UInt32(clamping: row["width"] as Int64),
            height: UInt32(clamping: row["height"] as Int64), size: UInt64(bitPattern: row["size"] as Int64),
            elapsedMilliseconds: UInt32(clamping: row["elapsed_ms"] as Int64))
        if let key: String = row["object_key"] { return StoredVariant(header, objectKey: key) }
        let sha: Data = row["blob_sha256"]
        return StoredVariant(header, sha256: [UInt8](sha))
    }
}
