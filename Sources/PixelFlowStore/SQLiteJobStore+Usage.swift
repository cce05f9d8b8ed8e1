import GRDB
import PixelFlowProtocol

/// Metered usage in hourly buckets: batches added by the writer, pages read for USAGE, old hours deleted.
extension SQLiteJobStore {
    private static let columns = [
        "admitted", "succeeded", "failed", "cancelled", "source_pixels", "bytes_in", "bytes_out", "cpu_ms",
    ]

    static func addUsage(_ buckets: [UsageReport.Bucket], sequence: UInt64, _ db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO usage (hour, tenant, \(columns.joined(separator: ", ")))
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (hour, tenant) DO UPDATE SET
                \(columns.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", "))
                """)
        for bucket in buckets {
            let counts = bucket.counts
            try statement.execute(arguments: [
                Int64(clamping: bucket.hour), bucket.tenant, Int64(clamping: counts.admitted),
                Int64(clamping: counts.succeeded), Int64(clamping: counts.failed), Int64(clamping: counts.cancelled),
                Int64(clamping: counts.sourcePixels), Int64(clamping: counts.bytesIn), Int64(clamping: counts.bytesOut),
                Int64(clamping: counts.cpuMilliseconds),
            ])
        }
        try db.cachedStatement(sql: "UPDATE meta SET value = ? WHERE key = 'usage_sequence'")
            .execute(arguments: [String(sequence)])
    }

    static func usageSequence(_ db: Database) throws -> UInt64 {
        try UInt64(String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'usage_sequence'") ?? "0") ?? 0
    }

    static func usageTotals(_ db: Database) throws -> [String: UsageCounts] {
        let sums = columns.map { "sum(\($0)) AS \($0)" }.joined(separator: ", ")
        var totals: [String: UsageCounts] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT tenant, \(sums) FROM usage GROUP BY tenant") {
            totals[row["tenant"]] = counts(from: row)
        }
        return totals
    }

    private static func counts(from row: Row) -> UsageCounts {
        func value(_ column: String) -> UInt64 { UInt64(clamping: (row[column] as Int64?) ?? 0) }
        return UsageCounts(
            admitted: value("admitted"), succeeded: value("succeeded"), failed: value("failed"),
            cancelled: value("cancelled"), sourcePixels: value("source_pixels"), bytesIn: value("bytes_in"),
            bytesOut: value("bytes_out"), cpuMilliseconds: value("cpu_ms"))
    }

    public func usage(
        tenant: String?, since: UInt64, after: UsageCursor?, limit: Int
    ) async throws(StoreError) -> (buckets: [UsageReport.Bucket], sequence: UInt64) {
        let sinceHour = Int64(clamping: since - since % 3600)
        let afterHour = after.map { Int64(clamping: $0.hour) }
        let afterTenant = after?.tenant ?? ""
        return try await reading("read usage") { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM usage
                    WHERE hour >= ?1 AND (?2 IS NULL OR tenant = ?2) AND (?3 IS NULL OR (hour, tenant) > (?3, ?4))
                    ORDER BY hour, tenant LIMIT ?5
                    """, arguments: [sinceHour, tenant, afterHour, afterTenant, limit])
            let buckets = rows.map { row in
                UsageReport.Bucket(
                    tenant: row["tenant"], hour: UInt64(clamping: row["hour"] as Int64), counts: Self.counts(from: row))
            }
            return (buckets, try Self.usageSequence(db))
        }
    }

    public func deleteUsage(before hour: UInt64) async throws(StoreError) -> Int {
        try await writing("delete old usage") { db in
            try db.execute(sql: "DELETE FROM usage WHERE hour < ?", arguments: [Int64(clamping: hour)])
            return db.changesCount
        }
    }
}
