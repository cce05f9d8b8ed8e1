import Foundation
import PixelFlowBatch
import PixelFlowImaging
import PixelFlowPipeline

/// Everything `pixelflow process` needs, checked: the pipeline, the sources and their output folders
/// (shared with `pfctl process` through PixelFlowBatch), plus the engine's threads and limits.
struct ProcessSetup {
    let pipeline: Pipeline
    let sources: [BatchSource]
    let outputRoot: URL
    let threads: Int
    let json: Bool
    let limits: ImagingLimits

    init(command: ProcessCommand) throws(BatchUsageError) {
        guard command.threads >= 1 else { throw BatchUsageError("--threads must be at least 1") }
        guard command.limits.jobTimeoutMilliseconds >= 1, command.limits.maxPixels >= 1, command.limits.maxSide >= 1,
            command.limits.maxFrames >= 1, command.limits.maxSourceBytes >= 1, command.limits.decodeBudgetBytes >= 1
        else {
            throw BatchUsageError("limits must be positive")
        }
        pipeline = try BatchInputs.pipeline(file: command.pipeline, compact: command.variants)
        guard !command.inputs.isEmpty else { throw BatchUsageError("give at least one FILE or DIR") }
        outputRoot = URL(fileURLWithPath: command.output)
        sources = try BatchInputs.sources(command.inputs, outputRoot: outputRoot)
        threads = command.threads
        json = command.json
        limits = command.limits.imagingLimits
    }
}
