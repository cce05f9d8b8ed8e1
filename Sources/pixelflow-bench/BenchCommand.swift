import ArgumentParser

@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pixelflow-bench",
        abstract: "PixelFlow benchmarks (not tests): codec, compression and imaging throughput.",
        subcommands: [ImagingBenchCommand.self]
    )
}
