import ArgumentParser
import Dispatch

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pixelflow-bench",
        abstract:
            "PixelFlow benchmarks (not tests): codec, compression, imaging throughput and the coordinator's CPU per job.",
        subcommands: [CodecBenchmark.self, ImagingBenchCommand.self, CoordinatorBenchmark.self]
    )
}

/// A synchronous entry point: Swift's async one parks the main thread in dispatch's main loop, which valgrind
/// (bench/cpu_regression.sh runs `coordinator` under callgrind) cannot run. Async subcommands run on the
/// cooperative pool while this thread waits for them.
@main
enum BenchMain {
    static func main() {
        do {
            var command = try BenchCommand.parseAsRoot()
            if let asynchronous = command as? any AsyncParsableCommand {
                try waitFor(asynchronous)
            } else {
                try command.run()
            }
        } catch {
            BenchCommand.exit(withError: error)
        }
    }

    private static func waitFor(_ command: any AsyncParsableCommand) throws {
        nonisolated(unsafe) var command = command
        nonisolated(unsafe) var failure: (any Error)?
        let done = DispatchSemaphore(value: 0)
        Task {
            do { try await command.run() } catch { failure = error }
            done.signal()
        }
        done.wait()
        if let failure { throw failure }
    }
}
