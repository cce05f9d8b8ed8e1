import ArgumentParser
import Foundation
import PixelFlowImaging
import PixelFlowPipeline

/// `pixelflow-bench imaging`: decode-once engine against the naive per-variant thumbnail path.
///
/// Each measurement runs in a fresh child process (so its peak RSS is its own), whole corpus per run,
/// alternating the two paths A B A B ..., and the median of the runs is reported.
struct ImagingBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imaging",
        abstract:
            "Imaging throughput: decode-once engine vs naive per-variant thumbnailing, canonical and AVIF pipelines.",
        discussion: "Build the corpus with: bash ../shared/corpus.sh DIR (53 photos; never commit it).",
        subcommands: [ImagingLeakCheckCommand.self]
    )

    /// Optional only so `imaging leaks` parses without it; `run` requires it.
    @Option(help: "Directory of source images (searched recursively). Required.")
    var corpus: String?

    @Option(help: "Threads to measure at; repeat the flag for several (default: 1 and 2).")
    var threads: [Int] = []

    @Option(help: "Runs per configuration; the median is reported.")
    var runs: Int = 3

    @Option(help: "Pipelines: canonical, avif or both.")
    var pipelines: String = "both"

    @Option(
        help: "Run each measurement under flock on this file (e.g. the shared build lock), so no build runs during it.")
    var lock: String?

    @Option(help: .hidden)
    var child: String?

    func run() async throws {
        guard let corpus else {
            throw ValidationError("--corpus DIR is required (build it with ../shared/corpus.sh DIR)")
        }
        let sources = try ImagingCorpus.load(corpus)
        if let child {
            let measurement = try await ImagingBenchChild.measure(spec: child, sources: sources)
            print(measurement.encoded())
            return
        }
        let threadCounts = threads.isEmpty ? [1, 2] : threads
        let pipelineNames = pipelines == "both" ? ["canonical", "avif"] : [pipelines]
        let machine = ImagingBenchMachine.describe()
        print(
            "# Imaging benchmark\n\n\(machine)\ncorpus: \(corpus) (\(sources.count) images, \(sources.reduce(0) { $0 + $1.count } / 1_048_576) MiB)"
        )
        print("runs: \(runs) per configuration, alternating engine/naive; median reported\n")
        var rows: [ImagingBenchRow] = []
        for pipeline in pipelineNames {
            for threadCount in threadCounts {
                var results: [String: [ImagingMeasurement]] = ["engine": [], "naive": []]
                for run in 0..<runs {
                    for path in ["engine", "naive"] {
                        let measurement = try ImagingBenchChild.spawn(
                            corpus: corpus, spec: "\(path),\(pipeline),\(threadCount)", lock: lock)
                        results[path, default: []].append(measurement)
                        FileHandle.standardError.write(
                            Data(
                                "run \(run + 1)/\(runs) \(pipeline) \(path) t=\(threadCount): \(String(format: "%.2f", measurement.imagesPerSecond)) images/s\n"
                                    .utf8))
                    }
                }
                for path in ["engine", "naive"] {
                    rows.append(
                        ImagingBenchRow(pipeline: pipeline, path: path, threads: threadCount, runs: results[path] ?? [])
                    )
                }
            }
        }
        print(ImagingBenchRow.table(rows))
    }
}
