import Foundation
import NIOCore
import PixelFlowProtocol
import Testing

extension LiveCluster {
    /// Seeded mutational fuzzing of live processes: frames from proto/vectors, mutated, sent after a real handshake
    /// to a real coordinator and a real worker. Both must survive every one of them with bounded memory and keep
    /// serving. The seed is fixed, so a failure replays.
    @Suite("Live fuzzing of the coordinator and the worker", .serialized)
    struct LiveFuzzTests {
        static let framesPerConnection = 50
        static let connections = 2_000  // 100,000 mutated frames per process

        /// Every golden frame of proto/vectors (the prefaces excepted), as bytes.
        static let seeds: [[UInt8]] = {
            let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("proto/vectors")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            return names.filter { $0.hasSuffix(".hex") && !$0.hasPrefix("00-") }.sorted().compactMap { name in
                guard let text = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else {
                    return nil
                }
                let hex = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: " ")
                return hex.split(separator: " ").compactMap { UInt8($0, radix: 16) }
            }
        }()

        /// SplitMix64: small, fast, and the same sequence everywhere for a seed.
        struct SeededGenerator: RandomNumberGenerator {
            var state: UInt64
            mutating func next() -> UInt64 {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
        }

        /// One seed frame with one to four mutations: byte flips and overwrites, truncation, trailing garbage, a lying
        /// length, another frame type, a random stream id, or two frames spliced together.
        static func mutatedFrame(_ random: inout SeededGenerator) -> [UInt8] {
            var frame = seeds.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                switch Int.random(in: 0..<8, using: &random) {
                case 0 where !frame.isEmpty:
                    let index = Int.random(in: 0..<frame.count, using: &random)
                    frame[index] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
                case 1 where !frame.isEmpty:
                    frame[Int.random(in: 0..<frame.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                case 2 where frame.count > 1:
                    frame.removeLast(Int.random(in: 1..<frame.count, using: &random))
                case 3:
                    frame += (0..<Int.random(in: 1...32, using: &random)).map { _ in
                        UInt8.random(in: 0...255, using: &random)
                    }
                case 4 where frame.count >= 4:
                    let length = UInt32.random(in: 0...UInt32.max, using: &random)
                    frame.replaceSubrange(0..<4, with: withUnsafeBytes(of: length.bigEndian, Array.init))
                case 5 where frame.count >= 5:
                    frame[4] = [0x01, 0x02, 0x04, 0x06, 0x10, 0x13, 0x16, 0x30, 0x32, 0x35, 0x36, 0x37, 0x40, 0x99]
                        .randomElement(using: &random)!
                case 6 where frame.count >= 12:
                    let stream = UInt32.random(in: 0...16, using: &random)
                    frame.replaceSubrange(8..<12, with: withUnsafeBytes(of: stream.bigEndian, Array.init))
                default:
                    frame += seeds.randomElement(using: &random)!
                }
            }
            return frame
        }

        @Test(
            "100,000 mutated frames at a live coordinator, as clients and as workers: it survives, memory stays bounded, it keeps serving"
        )
        func coordinator() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator()
            try cluster.startWorker("w", slots: 2, extra: ["--null-engine"])
            try await cluster.waitForWorkers(1)
            let before = cluster.coordinatorRSS()
            var random = SeededGenerator(state: 0x5049_5846_4C4F_5701)
            var sent = 0
            for index in 0..<Self.connections {
                let raw = try RawConnection(port: cluster.port)
                if index % 4 == 3 {
                    try raw.handshake(keyID: "worker", secret: ClusterProcesses.joinSecret, role: .worker)
                } else {
                    try raw.handshake(keyID: "acme", secret: ClusterProcesses.tenantSecret)
                }
                let frames = (0..<Self.framesPerConnection).map { _ in Self.mutatedFrame(&random) }
                raw.send(frames.flatMap { $0 })
                sent += frames.count
                raw.reset()
            }
            #expect(sent >= 100_000)
            try await Task.sleep(for: .seconds(1))
            #expect(cluster.isCoordinatorRunning, "the coordinator died: \(cluster.log("coordinator").suffix(2000))")
            #expect(
                cluster.coordinatorRSS() - before < 128 << 20,
                "grew by \((cluster.coordinatorRSS() - before) >> 20) MiB")
            // Still serving: a real job goes through.
            let good = try RawConnection(port: cluster.port)
            try good.handshake(keyID: "other", secret: ClusterProcesses.otherSecret)
            good.send(CoordinatorResilienceTests.submit(1, size: 3))
            good.send(CoordinatorResilienceTests.chunk(1, [1, 2, 3], last: true))
            guard
                case .jobDone? = try good.receive(until: {
                    if case .jobDone = $0.message { true } else if case .jobFailed = $0.message { true } else { false }
                })?.message
            else {
                Issue.record("no job completes after the fuzzing")
                return
            }
        }

        @Test(
            "100,000 mutated frames at a live worker from its coordinator: it survives, reconnects every time, memory stays bounded, it still runs tasks"
        )
        func worker() throws {
            let fake = try FakeCoordinatorServer()
            let cluster = try ClusterProcesses()
            try cluster.startWorker(
                "w", slots: 2, coordinator: fake.address,
                extra: ["--null-engine", "--reconnect-delay-ms", "1", "--max-reconnect-delay-ms", "5"])
            var random = SeededGenerator(state: 0x5049_5846_4C4F_5702)
            var sent = 0
            var peak = 0
            for session in 0..<Self.connections {
                guard let (link, _) = try fake.acceptWorker(timeout: .seconds(10)) else {
                    Issue.record(
                        "the worker did not come back for session \(session): \(cluster.log("w").suffix(2000))")
                    return
                }
                let frames = (0..<Self.framesPerConnection).map { _ in Self.mutatedFrame(&random) }
                link.send(frames.flatMap { $0 })
                sent += frames.count
                link.reset()
                if session % 200 == 0 { peak = max(peak, cluster.workerRSS("w")) }
            }
            #expect(sent >= 100_000)
            #expect(peak < 256 << 20, "worker RSS reached \(peak >> 20) MiB")
            guard let (link, _) = try fake.acceptWorker() else { throw ClusterProcesses.Failure("the worker is gone") }
            link.send(.frame(WorkerResilienceTests.assign(1, size: 3)))
            link.send(.frame(WorkerResilienceTests.source(1, [1, 2, 3])))
            guard let frame = try link.receive(until: { WorkerResilienceTests.outcome(of: $0) != nil }) else {
                throw ClusterProcesses.Failure("no outcome after the fuzzing")
            }
            #expect(WorkerResilienceTests.outcome(of: frame)?.code == nil)
            #expect(cluster.workers["w"]?.isRunning == true)
        }
    }
}
