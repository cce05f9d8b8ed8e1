import ArgumentParser
import Foundation
import PixelFlowBatch
import PixelFlowImaging
import PixelFlowPipeline

/// `pixelflow process`: runs the imaging engine on local files, no cluster.
struct ProcessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Turn image files into variants with the imaging engine, in-process (no cluster).",
        discussion: """
            Writes DIR/<source-stem>/<variant-id>.<ext> for every source and variant. Directories are searched \
            recursively for .jpg .jpeg .png .webp .heic .heif .avif .tif .tiff .gif files; files named directly \
            are always tried. When two sources share a stem, later ones are written to <stem>-2, <stem>-3, ...

            Without --pipeline or --variant, the canonical pipeline runs: thumb 150 wide WebP q80, medium 800 \
            wide JPEG q85, large 1600 wide WebP q75.

            --variant takes one variant per use in the compact form \(CompactVariant.syntax):
              SIZE is W, Wx, xH, WxH or - ; KEY is any JSON variant field (q = quality; a bare KEY means true);
              crop=X,Y,W,H gives the crop rectangle. Examples:
                thumb:resize:150:webp:q=80
                square:cover:300x300:avif:gravity=attention:effort=2
                face:crop:-:png:crop=10,20,300,200

            Exit status: 0 when every source succeeded, 1 when any failed, 2 on a usage error.
            """
    )

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A job JSON file: an object with \"pipeline\", or a bare array of variants.", valueName: "FILE"))
    var pipeline: String?

    @Option(
        name: .customLong("variant"),
        help: ArgumentHelp("One variant in compact form; repeat for more.", valueName: "SPEC"))
    var variants: [String] = []

    @Option(name: .short, help: ArgumentHelp("Output directory.", valueName: "DIR"))
    var output: String = "pixelflow-out"

    @Option(name: .long, help: "Files processed at a time, one libvips thread each (default: the number of cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(
        name: .long, help: "Print one JSON object per source on standard output (the summary goes to standard error).")
    var json = false

    @OptionGroup var limits: ProcessLimitOptions

    @Argument(help: ArgumentHelp("Image files or directories.", valueName: "FILE|DIR"))
    var inputs: [String] = []

    func run() async throws {
        MemoryTuning.mapLargeAllocations()
        let setup: ProcessSetup
        do {
            setup = try ProcessSetup(command: self)
        } catch {
            FileHandle.standardError.write(
                Data("pixelflow process: \(error.message)\nSee 'pixelflow process --help'.\n".utf8))
            throw ExitCode(BatchExitStatus.usage)
        }
        let summary = await ProcessBatch(setup: setup).run()
        throw ExitCode(BatchExitStatus.of(summary))
    }
}

/// The engine's limits as flags; each flag is named after its config key.
struct ProcessLimitOptions: ParsableArguments {
    @Option(name: .customLong("max-source-bytes"), help: "Largest accepted source file (config max_source_bytes).")
    var maxSourceBytes: Int = ImagingLimits.default.maxSourceBytes

    @Option(name: .customLong("max-pixels"), help: "Most pixels a source header may declare (config max_pixels).")
    var maxPixels: Int = ImagingLimits.default.maxPixels

    @Option(
        name: .customLong("max-side"), help: "Widest or tallest side a source header may declare (config max_side).")
    var maxSide: Int = ImagingLimits.default.maxSide

    @Option(
        name: .customLong("max-frames"), help: "Most frames or pages a source header may declare (config max_frames).")
    var maxFrames: Int = ImagingLimits.default.maxFrames

    @Option(
        name: .customLong("job-timeout-ms"),
        help: "Time limit of one source's job in milliseconds (config job_timeout_ms).")
    var jobTimeoutMilliseconds: Int = 30_000

    @Option(
        name: .customLong("decode-budget-bytes"),
        help: "Estimated memory decodes may hold at once across threads; others wait (config decode_budget_bytes).")
    var decodeBudgetBytes: Int = ImagingLimits.default.decodeBudgetBytes

    var imagingLimits: ImagingLimits {
        ImagingLimits(
            maxSourceBytes: maxSourceBytes, maxPixels: maxPixels, maxSide: maxSide, maxFrames: maxFrames,
            jobTimeout: .milliseconds(jobTimeoutMilliseconds), decodeBudgetBytes: decodeBudgetBytes)
    }
}
