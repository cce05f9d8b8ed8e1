import Foundation
import NIOCore
import PixelFlowProtocol
import Testing

@testable import PixelFlowStore

/// The SQLite store on real files in a temporary directory: what a restart reads back, and how it refuses files
/// it must not use.
@Suite struct SQLiteJobStoreTests {
    let directory = TemporaryDirectory()

    @Test func aFreshStoreStartsAtJobOneAndReservesABlock() throws {
        let (_, recovered) = try SQLiteJobStore.open(directory: directory.path)
        #expect(recovered.nextJobID == 1)
        #expect(recovered.reservedThrough == 1 << 20)
        #expect(recovered.liveJobs.isEmpty)
    }

    @Test func jobIDsAreNeverReusedAcrossRestarts() throws {
        var options = SQLiteStoreOptions()
        options.jobIDBlock = 100
        do { _ = try SQLiteJobStore.open(directory: directory.path, options: options) }
        let (_, second) = try SQLiteJobStore.open(directory: directory.path, options: options)
        #expect(second.nextJobID == 101)
        #expect(second.reservedThrough == 200)
    }

    @Test func everyStepOfAJobIsReadBack() async throws {
        let source = ByteBuffer(repeating: 7, count: 3000)
        let big = ByteBuffer(repeating: 9, count: 100_000)
        do {
            let (store, _) = try SQLiteJobStore.open(directory: directory.path)
            let running = StoredJob.sample(id: 1, source: source)
            let done = StoredJob.sample(id: 2, source: source, key: "k-2")
            try await store.commit([
                .admit(running, source: source), .admit(done, source: source),
                .lease(job: 1, attempt: 1, worker: "w1", at: 10), .lease(job: 2, attempt: 1, worker: "w1", at: 10),
                .variant(.sample(job: 1, id: "small", bytes: source), bytes: source),
                .variant(.sample(job: 2, id: "large", bytes: big), bytes: big),
                .finish(job: 2, state: .succeeded, attempts: 1, code: .none, message: "", at: 20, expiresAt: 99),
            ])
            #expect(try await store.variants(of: 2).map(\.variantID) == ["large"])
            #expect(try await store.blob(PixelFlowProtocol.SHA256Digest.of(big)) == big)
            #expect(try await store.job(2, tenant: "other") == nil)
        }
        let (store, recovered) = try SQLiteJobStore.open(directory: directory.path)
        let live = try #require(recovered.liveJobs.first)
        #expect(recovered.liveJobs.count == 1)
        #expect(live.job.id == 1 && live.job.state == .running && live.job.attempt == 1)
        #expect(try live.source.get() == source)
        #expect(live.storedVariants.map(\.variantID) == ["small"])
        #expect(recovered.recentlyFinished.map(\.id) == [2])
        #expect(recovered.recentlyFinished.first?.idempotencyKey == "k-2")
        #expect(recovered.nextJobID == (1 << 20) + 1)
        // The shared source is stored once; it goes when the last job naming it expires.
        #expect(try await store.deleteExpired(now: 100, limit: 10) == 1)
        #expect(try await store.blob(PixelFlowProtocol.SHA256Digest.of(source)) == source)
        await #expect(throws: StoreError.self) { try await store.blob(PixelFlowProtocol.SHA256Digest.of(big)) }
    }

    @Test func jobsAreListedNewestFirstByTenantAndState() async throws {
        let (store, _) = try SQLiteJobStore.open(directory: directory.path)
        let source = ByteBuffer(repeating: 1, count: 10)
        var writes: [StoreWrite] = []
        for id in UInt64(1)...5 {
            var job = StoredJob.sample(id: id, source: source)
            if id == 4 { job.tenant = "other" }
            writes.append(.admit(job, source: source))
        }
        writes.append(
            .finish(job: 2, state: .failed, attempts: 1, code: .undecodableImage, message: "bad", at: 5, expiresAt: 9))
        try await store.commit(writes)
        #expect(
            try await store.jobs(tenant: "tenant", state: nil, beforeID: 0, limit: 10).map(\.job.id) == [5, 3, 2, 1])
        #expect(try await store.jobs(tenant: nil, state: nil, beforeID: 0, limit: 2).map(\.job.id) == [5, 4])
        #expect(try await store.jobs(tenant: nil, state: nil, beforeID: 4, limit: 2).map(\.job.id) == [3, 2])
        let failed = try await store.jobs(tenant: "tenant", state: .failed, beforeID: 0, limit: 10)
        #expect(failed.map(\.job.id) == [2] && failed.first?.job.code == .undecodableImage)
    }

    @Test func anyJobIDCanBeAskedFor() async throws {
        let (store, _) = try SQLiteJobStore.open(directory: directory.path)
        #expect(try await store.job(.max, tenant: "tenant") == nil, "ids above Int64.max are asked for as well")
        #expect(try await store.variants(of: .max).isEmpty)
    }

    @Test func aTruncatedBlobFailsOnlyItsJob() async throws {
        let big = ByteBuffer(repeating: 3, count: 200_000)
        let digest = PixelFlowProtocol.SHA256Digest.of(big)
        do {
            let (store, _) = try SQLiteJobStore.open(directory: directory.path)
            try await store.commit([.admit(.sample(id: 1, source: big), source: big)])
            let file = BlobDirectory.path(of: digest, in: directory.path + "/blobs")
            #expect(truncate(file, 1000) == 0)
        }
        let (_, recovered) = try SQLiteJobStore.open(directory: directory.path)
        let job = try #require(recovered.liveJobs.first)
        #expect(throws: StoreError.self) { try job.source.get() }
    }

    @Test func aNewerSchemaIsRefused() throws {
        do { _ = try SQLiteJobStore.open(directory: directory.path) }
        try directory.sqlite("INSERT INTO grdb_migrations (identifier) VALUES ('v9-from-the-future')")
        let error = #expect(throws: StoreError.self) { try SQLiteJobStore.open(directory: directory.path) }
        #expect(error?.kind == .schemaTooNew)
        #expect(error?.message.contains("v9-from-the-future") == true)
    }

    @Test func aForeignOrDamagedFileIsRefusedAsCorrupt() throws {
        do { _ = try SQLiteJobStore.open(directory: directory.path) }
        let file = directory.path + "/jobs.sqlite"
        let handle = try #require(FileHandle(forWritingAtPath: file))
        try handle.write(contentsOf: Data(repeating: 0, count: 100))
        try handle.close()
        let error = #expect(throws: StoreError.self) { try SQLiteJobStore.open(directory: directory.path) }
        #expect(error?.kind == .corrupt)
    }

    @Test func aSecondStoreOnTheSameDirectoryIsRefused() throws {
        let (first, _) = try SQLiteJobStore.open(directory: directory.path)
        let error = #expect(throws: StoreError.self) { try SQLiteJobStore.open(directory: directory.path) }
        #expect(error?.kind == .locked)
        withExtendedLifetime(first) {}
    }
}

extension StoredJob {
    static func sample(id: UInt64, source: ByteBuffer, key: String = "") -> StoredJob {
        StoredJob(
            id: id, tenant: "tenant", priority: 128, pipeline: ByteBuffer(string: "[]"), variantCount: 1,
            formats: [.webp], sourceSHA256: PixelFlowProtocol.SHA256Digest.of(source),
            sourceSize: UInt64(source.readableBytes), idempotencyKey: key, webhookURL: "", admittedAt: 1)
    }
}

extension StoredVariant {
    static func sample(job: UInt64, id: String, bytes: ByteBuffer) -> StoredVariant {
        StoredVariant(
            VariantHeader(
                jobID: job, attempt: 1, variantID: id, format: "webp", width: 10, height: 10,
                size: UInt64(bytes.readableBytes), elapsedMilliseconds: 1),
            sha256: PixelFlowProtocol.SHA256Digest.of(bytes))
    }
}

/// A fresh directory under the system's temporary directory, removed when the test's value goes.
final class TemporaryDirectory: Sendable {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "pixelflow-store-\(UUID().uuidString)"
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Runs SQL on the store's database with the sqlite3 library directly, behind the store's back.
    func sqlite(_ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()",
            path + "/jobs.sqlite", sql,
        ]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
