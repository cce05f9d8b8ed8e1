import ArgumentParser
import Foundation
import PixelFlowImaging
import PixelFlowPipeline

/// `pixelflow-bench imaging leaks`: libvips' object and memory counters around a batch, in a process of its
/// own (the counters are process-wide, so a test process running other libvips work could not read them
/// exactly). Prints one JSON object; the imaging tests run it and check the numbers.
struct ImagingLeakCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leaks",
        abstract: "Run a batch twice and print libvips' live objects and tracked memory before and after (JSON)."
    )

    @Option(help: "A file that must fail at its header (e.g. a pixel bomb): processed first, alone.")
    var bomb: String?

    @Option(help: "Jobs per batch.")
    var jobs: Int = 24

    @Argument(help: "Source files, used round-robin; failures are expected and counted.")
    var sources: [String]

    func run() async throws {
        let engine = ImagingEngine(threads: 2)
        let pipeline = try PipelineDecoder.decode(compact: [
            "a:resize:150:webp", "b:cover:64x64:jpeg:gravity=attention", "c:contain:80x80:png",
            "d:crop:40:avif:crop=10,10,100,100",
        ])
        var bombHighWater = 0
        var bombCode = ""
        if let bomb {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: bomb)))
            do {
                _ = try await engine.process(source: bytes, pipeline: pipeline)
            } catch let error as ImagingError {
                bombCode = error.code.rawValue
            }
            bombHighWater = VipsRuntime.trackedMemoryHighWater
        }
        let inputs = try sources.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0))) }
        func batch() async -> Int {
            await withTaskGroup(of: Bool.self) { group in
                for index in 0..<jobs {
                    let source = inputs[index % inputs.count]
                    group.addTask { (try? await engine.process(source: source, pipeline: pipeline)) != nil }
                }
                return await group.reduce(0) { $0 + ($1 ? 0 : 1) }
            }
        }
        // The first batch warms every thread up (libvips keeps per-thread state); the second is measured.
        _ = await batch()
        let (objectsBefore, memoryBefore) = await Self.settledCounters()
        let failures = await batch()
        let (objectsAfter, memoryAfter) = await Self.settledCounters()
        let report: [String: Any] = [
            "bomb_code": bombCode, "bomb_high_water": bombHighWater,
            "objects_before": objectsBefore, "objects_after": objectsAfter,
            "memory_before": memoryBefore, "memory_after": memoryAfter,
            "jobs": jobs, "failures": failures,
        ]
        print(
            String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }

    /// libvips' counters once engine threads have let go of a finished job (a job's result can reach the caller
    /// a moment before its thread frees the last buffers): read until two reads 50 ms apart agree, at most 1 s.
    static func settledCounters() async -> (objects: Int, memory: Int) {
        var last = (VipsRuntime.liveObjectCount, VipsRuntime.trackedMemory)
        for _ in 0..<20 {
            try? await Task.sleep(for: .milliseconds(50))
            let now = (VipsRuntime.liveObjectCount, VipsRuntime.trackedMemory)
            if now == last { break }
            last = now
        }
        return last
    }
}
