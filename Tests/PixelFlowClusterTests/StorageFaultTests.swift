import Foundation
import PixelFlowClient
import Testing

extension LiveCluster {
    /// The job store's disk misbehaving under a real coordinator: filling up, or read-only from the start. The data
    /// directory is mounted in the coordinator's own mount namespace (a tmpfs, a read-only bind mount), which
    /// needs root, as CI has.
    @Suite("A job store on a full or read-only disk", .serialized)
    struct StorageFaultTests {
        static let pipeline = #"[{"id":"thumb","action":"resize","width":64,"format":"webp"}]"#

        static func incompressible(_ count: Int, seed: UInt64) -> [UInt8] {
            var state = seed | 1
            return (0..<count).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 33)
            }
        }

        @Test(
            "a data disk that fills up (a 16 MiB tmpfs): async jobs are refused with storage_error naming the cause, stream jobs go on, and once space is freed async jobs are stored and run again; nothing crashes"
        )
        func diskFillsUp() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator(mount: .tmpfs(megabytes: 16))
            try cluster.startWorker("w1", extra: ["--null-engine"])
            try await cluster.waitForWorkers(1)
            try await DurableJobTests.connect(cluster) { client in
                let first = try await client.submit(
                    source: Self.incompressible(200_000, seed: 1), pipeline: Self.pipeline)
                _ = try await client.wait(first)

                // Fill what is left of the disk (dd stops at ENOSPC).
                _ = try cluster.runInCoordinatorMounts(
                    "dd if=/dev/zero of=\(cluster.dataPath)/filler bs=1M 2>/dev/null")
                let refusal = await #expect(throws: PixelFlowClientError.self) {
                    try await client.submit(source: Self.incompressible(1 << 20, seed: 2), pipeline: Self.pipeline)
                }
                #expect(refusal?.code == .storageError, "\(String(describing: refusal))")
                let message = refusal?.message ?? ""
                #expect(
                    message.contains("No space left") || message.contains("disk is full"),
                    "the refusal does not say the disk is full: \(message)")
                var completed = false
                for try await event in client.process(source: Array("stream".utf8), pipeline: Self.pipeline) {
                    if case .completed = event { completed = true }
                }
                #expect(completed, "stream jobs stopped with the store")

                #expect(try cluster.runInCoordinatorMounts("rm \(cluster.dataPath)/filler") == 0)
                let deadline = ContinuousClock.now + .seconds(10)
                var accepted: JobID?
                while accepted == nil && ContinuousClock.now < deadline {
                    accepted = try? await client.submit(
                        source: Self.incompressible(1 << 20, seed: 3), pipeline: Self.pipeline)
                    if accepted == nil { try await Task.sleep(for: .milliseconds(200)) }
                }
                let job = try #require(accepted, "no async job was accepted once space was freed")
                _ = try await client.wait(job)
                #expect(try await client.fetch(job).variants.count == 1)
                #expect(try await client.fetch(first).variants.count == 1, "the job stored before the disk filled")
            }
            #expect(try await cluster.http("/readyz").hasPrefix("ready"))
            #expect(cluster.isCoordinatorRunning)
        }

        @Test(
            "a read-only data directory at start: the coordinator starts, /readyz says why, async jobs are refused with storage_error, stream jobs run"
        )
        func readOnlyAtStart() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator(mount: .readOnly)
            try cluster.startWorker("w1", extra: ["--null-engine"])
            try await cluster.waitForWorkers(1)
            let readiness = try await cluster.http("/readyz")
            #expect(readiness.contains("the job store is failing"), "readyz: \(readiness)")
            #expect(readiness.contains("Read-only file system"), "readyz does not say why: \(readiness)")
            try await DurableJobTests.connect(cluster) { client in
                let refusal = await #expect(throws: PixelFlowClientError.self) {
                    try await client.submit(source: Array("async".utf8), pipeline: Self.pipeline)
                }
                #expect(refusal?.code == .storageError)
                var completed = false
                for try await event in client.process(source: Array("stream".utf8), pipeline: Self.pipeline) {
                    if case .completed = event { completed = true }
                }
                #expect(completed)
            }
            #expect(cluster.isCoordinatorRunning)
        }
    }
}
