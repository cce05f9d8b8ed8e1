import ArgumentParser
import Foundation
import PixelFlowBatch
import PixelFlowClient

/// `pfctl process`: `pixelflow process` through the cluster — same inputs, output layout, JSON lines, summary and
/// exit statuses (PixelFlowBatch), with rate-limited submissions retried after `retry_after_ms`.
struct ClusterProcessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Turn image files into variants on the cluster.",
        discussion: """
            Writes DIR/<source-stem>/<variant-id>.<ext> for every source and variant, each as soon as the cluster \
            streams it back. Inputs, --pipeline/--variant, --json lines and the summary are those of \
            `pixelflow process` (see `pixelflow process --help`). A submission rejected with rate_limited or \
            queue_full waits the coordinator's retry_after_ms and is retried, at most --max-retries times per \
            source; the summary counts the retries.

            Exit status: 0 when every source succeeded, 1 when any failed (or the coordinator is unreachable), \
            2 on a usage error.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var pipelineOptions: PipelineOptions

    @Option(name: .short, help: ArgumentHelp("Output directory.", valueName: "DIR"))
    var output: String = "pixelflow-out"

    @Option(help: "Sources in flight at a time.")
    var concurrency: Int = 8

    @Option(name: .customLong("max-retries"), help: "Retries per source after rate_limited or queue_full.")
    var maxRetries: Int = 20

    @Argument(help: ArgumentHelp("Image files or directories.", valueName: "FILE|DIR"))
    var inputs: [String] = []

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard maxRetries >= 0 else { throw ValidationError("--max-retries must not be negative") }
        guard !inputs.isEmpty else { throw ValidationError("give at least one FILE or DIR") }
    }

    func run() async throws {
        let pipeline = try loadPipeline(pipelineOptions)
        let sources: [BatchSource]
        do {
            sources = try BatchInputs.sources(inputs, outputRoot: URL(fileURLWithPath: output))
        } catch {
            throw ValidationError(error.message)
        }
        let retry = RetryPolicy(maxRetries: maxRetries)
        let runner = BatchRunner(
            sources: sources, concurrency: concurrency, json: connection.json, reportsRetries: true)
        let summary = try await connection.withClient(command: "process") { client in
            let step = ClusterSource(client: client, pipelineJSON: pipeline.wireJSON, retry: retry)
            return await runner.run { await step.process($0) }
        }
        throw ExitCode(BatchExitStatus.of(summary))
    }
}
