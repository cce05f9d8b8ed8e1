import GRDB

/// The store's schema, one GRDB migration per version. A database with a migration this build does not list is
/// newer than the build: it is refused, never written.
enum SQLiteSchema {
    /// 'PFLW' in `PRAGMA application_id`: a database file of any other program is refused.
    static let applicationID: Int32 = 0x5046_4C57

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-jobs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT, WITHOUT ROWID;
                    CREATE TABLE jobs (
                        id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, state INTEGER NOT NULL,
                        priority INTEGER NOT NULL, pipeline BLOB NOT NULL, variant_count INTEGER NOT NULL,
                        formats INTEGER NOT NULL, source_sha256 BLOB NOT NULL, source_size INTEGER NOT NULL,
                        idempotency_key TEXT NOT NULL, webhook_url TEXT NOT NULL, attempt INTEGER NOT NULL,
                        retry_at INTEGER, deadline_at INTEGER, admitted_at INTEGER NOT NULL, finished_at INTEGER,
                        expires_at INTEGER, code INTEGER NOT NULL, message TEXT NOT NULL) STRICT;
                    CREATE INDEX jobs_live ON jobs (state) WHERE state < 2;
                    CREATE INDEX jobs_by_tenant ON jobs (tenant, state, id);
                    CREATE INDEX jobs_by_expiry ON jobs (expires_at) WHERE expires_at IS NOT NULL;
                    CREATE INDEX jobs_by_key ON jobs (tenant, idempotency_key) WHERE idempotency_key != '';
                    CREATE TABLE attempts (
                        job_id INTEGER NOT NULL, attempt INTEGER NOT NULL, worker TEXT NOT NULL,
                        leased_at INTEGER NOT NULL, PRIMARY KEY (job_id, attempt)) STRICT, WITHOUT ROWID;
                    CREATE TABLE variants (
                        job_id INTEGER NOT NULL, variant_id TEXT NOT NULL, seq INTEGER NOT NULL,
                        attempt INTEGER NOT NULL, blob_sha256 BLOB NOT NULL, size INTEGER NOT NULL,
                        format TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
                        elapsed_ms INTEGER NOT NULL, PRIMARY KEY (job_id, variant_id)) STRICT, WITHOUT ROWID;
                    CREATE TABLE blobs (
                        sha256 BLOB PRIMARY KEY, size INTEGER NOT NULL, inline BLOB, refs INTEGER NOT NULL,
                        created_at INTEGER NOT NULL) STRICT, WITHOUT ROWID;
                    INSERT INTO meta (key, value) VALUES ('job_ids_reserved_through', '0');
                    """)
        }
        migrator.registerMigration("v2-webhooks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE webhook_outbox (
                        event_id TEXT PRIMARY KEY, job_id INTEGER NOT NULL, tenant TEXT NOT NULL, url TEXT NOT NULL,
                        body BLOB NOT NULL, created_at INTEGER NOT NULL, attempts INTEGER NOT NULL,
                        next_at INTEGER NOT NULL, state INTEGER NOT NULL, last_status INTEGER,
                        last_error TEXT NOT NULL, ended_at INTEGER) STRICT, WITHOUT ROWID;
                    CREATE INDEX webhook_outbox_due ON webhook_outbox (next_at) WHERE state = 0;
                    CREATE INDEX webhook_outbox_by_job ON webhook_outbox (job_id);
                    INSERT OR IGNORE INTO meta (key, value) VALUES ('store_id', lower(hex(randomblob(8))));
                    """)
        }
        migrator.registerMigration("v3-usage") { db in
            try db.execute(
                sql: """
                    CREATE TABLE usage (
                        hour INTEGER NOT NULL, tenant TEXT NOT NULL, admitted INTEGER NOT NULL,
                        succeeded INTEGER NOT NULL, failed INTEGER NOT NULL, cancelled INTEGER NOT NULL,
                        source_pixels INTEGER NOT NULL, bytes_in INTEGER NOT NULL, bytes_out INTEGER NOT NULL,
                        cpu_ms INTEGER NOT NULL, PRIMARY KEY (hour, tenant)) STRICT, WITHOUT ROWID;
                    INSERT INTO meta (key, value) VALUES ('usage_sequence', '0');
                    """)
        }
        migrator.registerMigration("v4-drafts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE drafts (
                        id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, priority INTEGER NOT NULL,
                        pipeline BLOB NOT NULL, variant_count INTEGER NOT NULL, formats INTEGER NOT NULL,
                        source_type INTEGER NOT NULL, source_url TEXT NOT NULL, webhook_url TEXT NOT NULL,
                        idempotency_key TEXT NOT NULL, source_sha256 BLOB, source_size INTEGER,
                        created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL) STRICT;
                    CREATE INDEX drafts_by_tenant ON drafts (tenant, id);
                    CREATE INDEX drafts_by_expiry ON drafts (expires_at);
                    CREATE INDEX drafts_by_key ON drafts (tenant, idempotency_key) WHERE idempotency_key != '';
                    """)
        }
        migrator.registerMigration("v5-objects") { db in
            try db.execute(
                sql: """
                    ALTER TABLE jobs ADD COLUMN source_object TEXT;
                    ALTER TABLE variants ADD COLUMN object_key TEXT;
                    CREATE TABLE object_deletions (key TEXT PRIMARY KEY) STRICT, WITHOUT ROWID;
                    """)
        }
        return migrator
    }
}
