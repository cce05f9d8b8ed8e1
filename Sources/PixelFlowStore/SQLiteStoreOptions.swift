/// How the SQLite store keeps its data (config `store.*`).
public struct SQLiteStoreOptions: Sendable {
    public enum Synchronous: String, Sendable, CaseIterable {
        /// Survives a crash of the process and of the machine (power loss): every commit is flushed to the disk.
        case full
        /// Survives a crash of the process (kill -9, OOM); a power loss may lose the last commits.
        case normal
    }

    /// Blobs up to this size live inside the database, in their job's transaction; larger ones are files.
    public var inlineBlobMaxBytes = 64 * 1024
    public var synchronous = Synchronous.full
    /// How many finished jobs a restart loads back for STATUS, WATCH and idempotency keys.
    public var recentFinishedJobs = 10_000
    /// Job ids reserved per write of the high-water mark.
    public var jobIDBlock: UInt64 = 1 << 20
    /// Check the database's pages at start (`PRAGMA quick_check`): a damaged file is then found before use.
    public var checkOnStart = true

    public init() {}
}
