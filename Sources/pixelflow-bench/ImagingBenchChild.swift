import Foundation
import PixelFlowImaging
import PixelFlowPipeline

/// One measurement: one path, one pipeline, one thread count, the whole corpus once, in this process.
enum ImagingBenchChild {
    static func spawn(corpus: String, spec: String, lock: String?) throws -> ImagingMeasurement {
        let process = Process()
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let arguments = ["imaging", "--corpus", corpus, "--child", spec]
        if let lock {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
            process.arguments = [lock, executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let measurement = ImagingMeasurement(decoding: data) else {
            throw ImagingBenchError(message: "child \(spec) failed with status \(process.terminationStatus)")
        }
        return measurement
    }

    static func measure(spec: String, sources: [[UInt8]]) async throws -> ImagingMeasurement {
        let parts = spec.split(separator: ",").map(String.init)
        guard parts.count == 3, let threads = Int(parts[2]) else {
            throw ImagingBenchError(message: "bad child spec \(spec)")
        }
        let pipeline = parts[1] == "avif" ? Pipeline.canonicalAVIF : Pipeline.canonical
        let usageBefore = ResourceUsage.now()
        let start = ContinuousClock.now
        let results: [ImageResult]
        switch parts[0] {
        case "engine": results = try await engineRun(sources, pipeline: pipeline, threads: threads)
        case "naive": results = try await naiveRun(sources, pipeline: pipeline, threads: threads)
        default: throw ImagingBenchError(message: "unknown path \(parts[0])")
        }
        let wall = (ContinuousClock.now - start)
        let usageAfter = ResourceUsage.now()
        return ImagingMeasurement(
            images: sources.count,
            seconds: Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18,
            cpuMilliseconds: usageAfter.cpuMilliseconds - usageBefore.cpuMilliseconds,
            peakRSSKiB: usageAfter.peakRSSKiB,
            latenciesMs: results.map(\.latencyMs).sorted(),
            firstVariantMs: results.map(\.firstVariantMs).sorted(),
            bytesPerVariant: Dictionary(grouping: results.flatMap(\.variants), by: \.id).mapValues { reports in
                reports.reduce(0) { $0 + $1.bytes } / max(1, reports.count)
            }
        )
    }

    struct ImageResult: Sendable {
        let latencyMs: Double
        let firstVariantMs: Double
        let variants: [VariantReport]
    }

    /// `threads` jobs in flight on an engine with `threads` libvips threads.
    static func engineRun(_ sources: [[UInt8]], pipeline: Pipeline, threads: Int) async throws -> [ImageResult] {
        let engine = ImagingEngine(threads: threads)
        return try await withThrowingTaskGroup(of: ImageResult.self) { group in
            var next = 0
            func start() {
                guard next < sources.count else { return }
                let source = sources[next]
                next += 1
                group.addTask {
                    let begin = ContinuousClock.now
                    let first = FirstArrival()
                    let report = try await engine.process(source: source, pipeline: pipeline) { _ in
                        await first.mark(begin)
                    }
                    return ImageResult(
                        latencyMs: (ContinuousClock.now - begin).benchMilliseconds,
                        firstVariantMs: await first.value ?? 0, variants: report.variants)
                }
            }
            for _ in 0..<threads { start() }
            var results: [ImageResult] = []
            while let result = try await group.next() {
                results.append(result)
                start()
            }
            return results
        }
    }

    /// `threads` plain threads, each thumbnailing every variant from the source bytes.
    static func naiveRun(_ sources: [[UInt8]], pipeline: Pipeline, threads: Int) async throws -> [ImageResult] {
        let collector = NaiveCollector(sources: sources)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<threads {
                group.addTask {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let thread = Thread {
                            while let (index, source) = collector.take() {
                                let begin = ContinuousClock.now
                                let reports = (try? NaiveThumbnailer.process(source: source, pipeline: pipeline)) ?? []
                                let latency = (ContinuousClock.now - begin).benchMilliseconds
                                collector.put(
                                    index,
                                    ImageResult(
                                        latencyMs: latency, firstVariantMs: reports.first?.milliseconds ?? 0,
                                        variants: reports))
                            }
                            continuation.resume()
                        }
                        thread.start()
                    }
                }
            }
        }
        return collector.results
    }
}

actor FirstArrival {
    private(set) var value: Double?
    func mark(_ begin: ContinuousClock.Instant) {
        if value == nil { value = (ContinuousClock.now - begin).benchMilliseconds }
    }
}

/// Hands out sources to naive threads and gathers their results.
final class NaiveCollector: @unchecked Sendable {
    private let lock = NSLock()
    private let sources: [[UInt8]]
    private var next = 0
    private var gathered: [ImagingBenchChild.ImageResult] = []

    init(sources: [[UInt8]]) { self.sources = sources }

    func take() -> (Int, [UInt8])? {
        lock.lock()
        defer { lock.unlock() }
        guard next < sources.count else { return nil }
        next += 1
        return (next - 1, sources[next - 1])
    }

    func put(_ index: Int, _ result: ImagingBenchChild.ImageResult) {
        lock.lock()
        gathered.append(result)
        lock.unlock()
    }

    var results: [ImagingBenchChild.ImageResult] {
        lock.lock()
        defer { lock.unlock() }
        return gathered
    }
}

struct ImagingBenchError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

extension Duration {
    var benchMilliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
