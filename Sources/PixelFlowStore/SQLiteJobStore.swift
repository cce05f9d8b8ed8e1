import Foundation
import GRDB
import NIOCore
import PixelFlowProtocol

/// The embedded job store: SQLite in WAL mode under `DIR/jobs.sqlite`, small blobs inline, larger ones in
/// `DIR/blobs/` (docs/durable-jobs.md). One writer, which the coordinator feeds whole batches; readers beside it.
public final class SQLiteJobStore: JobStore {
    public let directory: String
    let pool: DatabasePool
    let blobs: BlobDirectory
    let options: SQLiteStoreOptions
    private let lock: DirectoryLock

    /// Opens (creating if needed) the store in `directory` and reads back what a restart needs. Throws
    /// `.schemaTooNew` for a database written by a newer build, `.corrupt` for a damaged or foreign file,
    /// `.locked` when another coordinator has the directory.
    public static func open(
        directory: String, options: SQLiteStoreOptions = SQLiteStoreOptions()
    ) throws(StoreError) -> (SQLiteJobStore, RecoveredState) {
        let store = try SQLiteJobStore(directory: directory, options: options)
        let recovered = try store.recover()
        return (store, recovered)
    }

    private init(directory: String, options: SQLiteStoreOptions) throws(StoreError) {
        self.directory = directory
        self.options = options
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw BlobDirectory.failure("create the data directory \(directory)")
        }
        lock = try DirectoryLock(directory: directory)
        blobs = try BlobDirectory(root: directory + "/blobs")
        var configuration = Configuration()
        configuration.label = "pixelflow-store"
        configuration.busyMode = .timeout(5)
        let synchronous = options.synchronous.rawValue.uppercased()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous); PRAGMA journal_size_limit = 67108864")
        }
        let path = directory + "/jobs.sqlite"
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.write { db in try Self.prepare(db, path: path, quickCheck: options.checkOnStart) }
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, doing: "open \(path)")
        }
    }

    /// Checks the file is ours and undamaged, refuses a newer schema, migrates an older one.
    private static func prepare(_ db: Database, path: String, quickCheck: Bool) throws {
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") ?? 0
        if applicationID == 0 && tables == 0 {
            try db.execute(sql: "PRAGMA application_id = \(SQLiteSchema.applicationID)")
        } else if applicationID != SQLiteSchema.applicationID {
            throw StoreError(.corrupt, "\(path) is not a PixelFlow job store (application_id \(applicationID))")
        }
        if quickCheck {
            let verdict = try String.fetchAll(db, sql: "PRAGMA quick_check")
            guard verdict == ["ok"] else {
                throw StoreError(
                    .corrupt, "\(path) is damaged: \(verdict.prefix(3).joined(separator: "; "))")
            }
        }
        let migrator = SQLiteSchema.migrator
        if try migrator.hasBeenSuperseded(db) {
            let known = Set(migrator.migrations)
            let unknown = try migrator.appliedIdentifiers(db).subtracting(known).sorted()
            throw StoreError(
                .schemaTooNew,
                "\(path) has schema migrations \(unknown) that this build of pixelflow does not know: upgrade "
                    + "pixelflow, or start with another --data directory")
        }
    }

    /// Runs the migrations, reserves a fresh block of job ids, and loads live and recently finished jobs.
    private func recover() throws(StoreError) -> RecoveredState {
        do {
            try SQLiteSchema.migrator.migrate(pool)
            let (next, reserved) = try pool.write { db -> (UInt64, UInt64) in
                let high = try UInt64(String.fetchOne(db, sql: Self.reservedSQL) ?? "0") ?? 0
                // Drafts are written as soon as their id is taken, maybe before the reservation that covers it.
                let maxStored =
                    try UInt64.fetchOne(
                        db, sql: "SELECT max(id) FROM (SELECT id FROM jobs UNION ALL SELECT id FROM drafts)")
                    ?? 0
                let next = max(high, maxStored) + 1
                let reserved = next - 1 + options.jobIDBlock
                try Self.reserve(through: reserved, db)
                return (next, reserved)
            }
            return try pool.read { db in
                let live = try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE state < 2 ORDER BY id")
                    .map(Self.job(from:))
                var recovered: [RecoveredJob] = []
                for job in live {
                    let source: Result<ByteBuffer, StoreError>
                    do throws(StoreError) {
                        // A source in the object store is read by the worker that runs the job.
                        source = .success(
                            job.sourceObjectKey == nil ? try readBlob(job.sourceSHA256, db) : ByteBuffer())
                    } catch {
                        source = .failure(error)
                    }
                    let stored = try Row.fetchAll(
                        db, sql: "SELECT * FROM variants WHERE job_id = ? ORDER BY seq",
                        arguments: [Int64(bitPattern: job.id)]
                    ).map(Self.variant(from:))
                    recovered.append(RecoveredJob(job: job, source: source, storedVariants: stored))
                }
                let finished = try Row.fetchAll(
                    db, sql: "SELECT * FROM jobs WHERE state >= 2 ORDER BY finished_at DESC, id DESC LIMIT ?",
                    arguments: [options.recentFinishedJobs]
                ).map(Self.job(from:))
                let storeID = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'store_id'") ?? "0"
                var state = RecoveredState(
                    nextJobID: next, reservedThrough: reserved, liveJobs: recovered,
                    recentlyFinished: finished.reversed(), storeID: storeID)
                state.usageTotals = try Self.usageTotals(db)
                state.usageSequence = try Self.usageSequence(db)
                return state
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, doing: "read back the jobs in \(directory)")
        }
    }

    static let reservedSQL = "SELECT value FROM meta WHERE key = 'job_ids_reserved_through'"

    static func reserve(through id: UInt64, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE meta SET value = ? WHERE key = 'job_ids_reserved_through' AND CAST(value AS INTEGER) < ?",
            arguments: [String(id), Int64(bitPattern: id)])
    }

    // MARK: JobStore

    public func commit(_ batch: [StoreWrite]) async throws(StoreError) {
        guard !batch.isEmpty else { return }
        let inlineMax = options.inlineBlobMaxBytes
        let blobs = self.blobs
        do {
            try await pool.write { db in
                for write in batch { try SQLiteWrites.apply(write, db, blobs: blobs, inlineMax: inlineMax) }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, doing: "commit \(batch.count) writes")
        }
    }

    public func job(_ id: UInt64, tenant: String) async throws(StoreError) -> StoredJob? {
        try await reading("read job \(id)") { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM jobs WHERE id = ? AND tenant = ?", arguments: [Int64(bitPattern: id), tenant]
            ).map(Self.job(from:))
        }
    }

    public func jobs(
        tenant: String?, state: JobStatus.State?, beforeID: UInt64, limit: Int
    ) async throws(StoreError) -> [(job: StoredJob, storedVariants: Int)] {
        let before = beforeID == 0 || beforeID > UInt64(Int64.max) ? Int64.max : Int64(beforeID)
        let rows = try await reading("list jobs") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT jobs.*, (SELECT count(*) FROM variants WHERE variants.job_id = jobs.id) AS stored_variants
                    FROM jobs WHERE (?1 IS NULL OR tenant = ?1) AND (?2 IS NULL OR state = ?2) AND id < ?3
                    ORDER BY id DESC LIMIT ?4
                    """, arguments: [tenant, state.map { Int($0.rawValue) }, before, limit]
            ).map { row -> (StoredJob, Int) in (Self.job(from: row), row["stored_variants"]) }
        }
        return rows.map { (job: $0.0, storedVariants: $0.1) }
    }

    public func variants(of job: UInt64) async throws(StoreError) -> [StoredVariant] {
        try await reading("read the variants of job \(job)") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM variants WHERE job_id = ? ORDER BY seq", arguments: [Int64(bitPattern: job)]
            ).map(Self.variant(from:))
        }
    }

    public func blob(_ sha256: [UInt8]) async throws(StoreError) -> ByteBuffer {
        try await reading("read a blob") { db in try self.readBlob(sha256, db) }
    }

    public func deleteExpired(now: Int64, limit: Int) async throws(StoreError) -> Int {
        let blobs = self.blobs
        let (count, files) = try await writing("delete expired jobs") { db in
            try SQLiteWrites.deleteExpired(now: now, limit: limit, db)
        }
        for sha256 in files { blobs.delete(sha256) }
        return count
    }

    public func pendingObjectDeletions(limit: Int) async throws(StoreError) -> [String] {
        try await reading("read the object deletions") { db in
            try String.fetchAll(db, sql: "SELECT key FROM object_deletions LIMIT ?", arguments: [limit])
        }
    }

    public func objectsDeleted(_ keys: [String]) async throws(StoreError) {
        guard !keys.isEmpty else { return }
        try await writing("record object deletions") { db in
            for key in keys {
                try db.cachedStatement(sql: "DELETE FROM object_deletions WHERE key = ?").execute(arguments: [key])
            }
        }
    }

    public func probe() async throws(StoreError) {
        try await writing("write a probe row") { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', ?)", arguments: ["\(Date())"])
        }
    }

    // MARK: Webhook outbox

    public func dueWebhooks(now: Int64, limit: Int) async throws(StoreError) -> [WebhookEvent] {
        try await reading("read the webhook outbox") { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT event_id, job_id, tenant, url, body, created_at, attempts FROM webhook_outbox
                    WHERE state = 0 AND next_at <= ? ORDER BY next_at LIMIT ?
                    """, arguments: [now, limit]
            ).map { row in
                let body: Data = row["body"]
                return WebhookEvent(
                    eventID: row["event_id"], jobID: UInt64(bitPattern: row["job_id"] as Int64), tenant: row["tenant"],
                    url: row["url"], body: ByteBuffer(bytes: body), createdAt: row["created_at"],
                    attempts: row["attempts"])
            }
        }
    }

    public func recordWebhookAttempts(_ attempts: [WebhookAttempt]) async throws(StoreError) {
        guard !attempts.isEmpty else { return }
        try await writing("record webhook attempts") { db in
            for attempt in attempts {
                switch attempt {
                case .delivered(let id, let status, let at):
                    try db.execute(
                        sql: """
                            UPDATE webhook_outbox SET state = 1, attempts = attempts + 1, last_status = ?,
                                last_error = '', ended_at = ? WHERE event_id = ?
                            """, arguments: [status, at, id])
                case .retry(let id, let status, let error, let nextAt):
                    try db.execute(
                        sql: """
                            UPDATE webhook_outbox SET attempts = attempts + 1, last_status = ?, last_error = ?,
                                next_at = ? WHERE event_id = ?
                            """, arguments: [status, error, nextAt, id])
                case .gaveUp(let id, let status, let error, let at):
                    try db.execute(
                        sql: """
                            UPDATE webhook_outbox SET state = 2, attempts = attempts + 1, last_status = ?,
                                last_error = ?, ended_at = ? WHERE event_id = ?
                            """, arguments: [status, error, at, id])
                }
            }
        }
    }

    public func webhookStates(
        of job: UInt64
    ) async throws(StoreError) -> [(eventID: String, state: WebhookState, attempts: Int)] {
        let rows = try await reading("read the webhook outbox") { db in
            try Row.fetchAll(
                db, sql: "SELECT event_id, state, attempts FROM webhook_outbox WHERE job_id = ? ORDER BY created_at",
                arguments: [Int64(bitPattern: job)]
            ).map { row -> (String, Int, Int) in (row["event_id"], row["state"], row["attempts"]) }
        }
        return rows.map { ($0.0, WebhookState(rawValue: $0.1) ?? .failed, $0.2) }
    }

    // MARK: Helpers

    /// Reads a blob inline from its row, or from its file, checking size and hash either way.
    func readBlob(_ sha256: [UInt8], _ db: Database) throws(StoreError) -> ByteBuffer {
        let row: Row?
        do {
            row = try Row.fetchOne(
                db, sql: "SELECT size, inline FROM blobs WHERE sha256 = ?", arguments: [Data(sha256)])
        } catch {
            throw Self.storeError(error, doing: "look up a blob")
        }
        guard let row else {
            throw StoreError(.io, "blob \(BlobDirectory.hex(sha256).prefix(12))… is missing from the store")
        }
        let size: Int = row["size"]
        if let inline: Data = row["inline"] {
            let bytes = ByteBuffer(bytes: inline)
            guard bytes.readableBytes == size else {
                throw StoreError(.io, "blob \(BlobDirectory.hex(sha256).prefix(12))… is damaged: wrong size")
            }
            try BlobDirectory.check(bytes, sha256: sha256)
            return bytes
        }
        return try blobs.read(sha256: sha256, size: size)
    }

    func reading<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await pool.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, doing: what)
        }
    }

    @discardableResult
    func writing<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await pool.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, doing: what)
        }
    }

    /// SQLite's result codes as the store's kinds: a damaged file is `.corrupt`, everything else `.io`.
    static func storeError(_ error: any Error, doing what: String) -> StoreError {
        guard let database = error as? DatabaseError else { return StoreError(.io, "cannot \(what): \(error)") }
        let reason = database.message ?? "\(database.resultCode)"
        switch database.resultCode.primaryResultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return StoreError(.corrupt, "cannot \(what): the database is damaged (\(reason))")
        case .SQLITE_FULL:
            return StoreError(.io, "cannot \(what): the disk is full (\(reason))")
        default:
            return StoreError(.io, "cannot \(what): \(reason) (\(database.resultCode))")
        }
    }
}
