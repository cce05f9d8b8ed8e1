import Foundation
import NIOCore
import PixelFlowProtocol
import Testing

@testable import PixelFlowStore

/// Drafts (jobs created over HTTP, not started): the source they hold, and where it goes when they are started,
/// cancelled, given another source or left to expire.
@Suite struct DraftStoreTests {
    let directory = TemporaryDirectory()

    static func draft(_ id: UInt64, key: String = "", expiresAt: Int64 = 1_000) -> JobDraft {
        JobDraft(
            id: id, tenant: "acme", pipeline: ByteBuffer(string: "[]"), variantCount: 1, formats: [],
            sourceType: .upload, idempotencyKey: key, createdAt: 1, expiresAt: expiresAt)
    }

    static func source(_ bytes: ByteBuffer) -> JobDraft.Source {
        JobDraft.Source(sha256: SHA256Digest.of(bytes), size: UInt64(bytes.readableBytes))
    }

    static func isStored(_ bytes: ByteBuffer, in store: SQLiteJobStore) async -> Bool {
        (try? await store.blob(SHA256Digest.of(bytes))) == bytes
    }

    @Test func aDraftHoldsOnlyItsLatestSourceAndHandsItToTheJobItBecomes() async throws {
        let (store, _) = try SQLiteJobStore.open(directory: directory.path)
        let first = ByteBuffer(repeating: 1, count: 100_000)
        let second = ByteBuffer(repeating: 2, count: 100_000)
        try await store.commit([.createDraft(Self.draft(5, key: "order-5"))])
        try await store.commit([.attachDraftSource(job: 5, Self.source(first), bytes: first)])
        try await store.commit([.attachDraftSource(job: 5, Self.source(second), bytes: second)])
        #expect(try await store.draft(5, tenant: "acme")?.source == Self.source(second))
        #expect(try await store.draft(5, tenant: "other") == nil)
        #expect(try await store.jobOrDraft(idempotencyKey: "order-5", tenant: "acme").draft?.id == 5)

        #expect(try await store.deleteExpired(now: 10, limit: 10) == 0)
        #expect(await !Self.isStored(first, in: store), "the replaced source is swept")
        #expect(await Self.isStored(second, in: store))

        try await store.commit([.admit(.sample(id: 5, source: second), source: second), .startDraft(job: 5)])
        #expect(try await store.draft(5, tenant: "acme") == nil)
        #expect(try await store.job(5, tenant: "tenant")?.state == .queued)
        _ = try await store.deleteExpired(now: 10, limit: 10)
        #expect(await Self.isStored(second, in: store), "the job holds it now")
    }

    @Test func aDeletedDraftOrJobGoesWithWhatItHeld() async throws {
        let (store, _) = try SQLiteJobStore.open(directory: directory.path)
        let draftSource = ByteBuffer(repeating: 3, count: 100_000)
        let jobSource = ByteBuffer(repeating: 5, count: 100_000)
        let variant = ByteBuffer(repeating: 6, count: 100_000)
        try await store.commit([
            .createDraft(Self.draft(6)), .attachDraftSource(job: 6, Self.source(draftSource), bytes: draftSource),
            .admit(.sample(id: 8, source: jobSource), source: jobSource),
            .variant(.sample(job: 8, id: "v", bytes: variant), bytes: variant),
        ])
        try await store.commit([.deleteDraft(job: 6), .deleteJob(job: 8)])
        #expect(try await store.draft(6, tenant: "acme") == nil)
        #expect(try await store.job(8, tenant: "tenant") == nil)
        #expect(try await store.variants(of: 8).isEmpty)
        _ = try await store.deleteExpired(now: 0, limit: 10)
        for bytes in [draftSource, jobSource, variant] { #expect(await !Self.isStored(bytes, in: store)) }
    }

    @Test func anExpiredDraftGoesWithItsSourceAndItsIdIsNeverHandedOutAgain() async throws {
        var options = SQLiteStoreOptions()
        options.jobIDBlock = 10
        let bytes = ByteBuffer(repeating: 4, count: 100_000)
        do {
            let (store, _) = try SQLiteJobStore.open(directory: directory.path, options: options)
            try await store.commit([
                .createDraft(Self.draft(7, expiresAt: 60)),
                .attachDraftSource(job: 7, Self.source(bytes), bytes: bytes),
                .createDraft(Self.draft(50)),
            ])
            #expect(try await store.deleteExpired(now: 70, limit: 10) == 1)
            #expect(try await store.draft(7, tenant: "acme") == nil)
            #expect(await !Self.isStored(bytes, in: store))
            #expect(try await store.drafts(tenant: "acme", beforeID: 0, limit: 10).map(\.id) == [50])
        }
        // Draft 50 was written beyond the reserved block (as a draft may be, before its reservation commits).
        let (_, recovered) = try SQLiteJobStore.open(directory: directory.path, options: options)
        #expect(recovered.nextJobID == 51)
    }
}
