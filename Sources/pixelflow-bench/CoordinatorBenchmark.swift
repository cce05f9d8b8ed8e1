import ArgumentParser
import Foundation

/// The coordinator's CPU per job on one thread, without sockets or other processes (CoordinatorJobPath). Its
/// instruction count under callgrind is what bench/cpu_regression.sh holds against a committed baseline.
struct CoordinatorBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "The coordinator's CPU per trivial job on in-memory connections (run in release).")

    @Option(help: "Jobs per measured run.")
    var jobs: Int = 100_000

    @Option(help: "Jobs run first and not measured (connections and tables warm up).")
    var warmup: Int = 5_000

    @Option(help: "Measured runs; the median is reported.")
    var runs: Int = 3

    @Option(help: "The worker's slots (twice as many jobs are kept in flight).")
    var slots: Int = 64

    func validate() throws {
        guard jobs >= 1, warmup >= 0, runs >= 1, (1...Int(UInt16.max)).contains(slots) else {
            throw ValidationError("--jobs and --runs must be at least 1, --warmup at least 0, --slots 1–65535")
        }
    }

    func run() throws {
        var path = try CoordinatorJobPath(slots: slots)
        try path.run(jobs: warmup)
        var perJob: [Double] = []
        for _ in 0..<runs {
            let start = ResourceUsage.now().cpuMilliseconds
            try path.run(jobs: jobs)
            perJob.append((ResourceUsage.now().cpuMilliseconds - start) / Double(jobs) * 1e3)
        }
        let micros = median(perJob)
        print("# PixelFlow coordinator job path (in-memory connections, one thread)")
        print("machine: \(machineDescription()); \(jobs) jobs per run after \(warmup) warm-up; \(slots) worker slots")
        print(String(format: "CPU per job: %.2f µs (median of %d runs: %@)", micros, runs, formatted(perJob)))
        print(String(format: "one core would move %.0f jobs/s", 1e6 / micros))
    }

    private func formatted(_ values: [Double]) -> String {
        values.map { String(format: "%.2f", $0) }.joined(separator: ", ")
    }
}
