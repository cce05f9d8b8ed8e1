import Foundation
import PixelFlowBatch
import PixelFlowImaging
import PixelFlowPipeline

/// Runs every source through the in-process engine, `threads` at a time, writing variants as they arrive.
/// Inputs, layout, JSON lines, progress and summary are PixelFlowBatch's, shared with `pfctl process`.
struct ProcessBatch {
    let setup: ProcessSetup

    func run() async -> BatchSummary {
        let engine = ImagingEngine(threads: setup.threads, limits: setup.limits)
        let pipeline = setup.pipeline
        let runner = BatchRunner(sources: setup.sources, concurrency: setup.threads, json: setup.json)
        return await runner.run { source in await Self.process(source, pipeline: pipeline, engine: engine) }
    }

    static func process(_ source: BatchSource, pipeline: Pipeline, engine: ImagingEngine) async -> SourceResult {
        let written = WrittenVariants()
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: source.path))
        } catch {
            return SourceResult(
                source: source.path, bytesIn: 0, variants: [],
                failure: .init(code: "io_error", message: "cannot read the source: \(error.localizedDescription)"))
        }
        do {
            try FileManager.default.createDirectory(at: source.outputFolder, withIntermediateDirectories: true)
            _ = try await engine.process(source: bytes, pipeline: pipeline) { variant in
                let path: String
                do {
                    path = try VariantFiles.write(
                        variant.data, for: source, variantID: variant.id, fileExtension: variant.format.fileExtension)
                } catch let error as VariantFiles.WriteError {
                    throw ImagingError(.internal, error.message)
                }
                let report = variant.report
                await written.add(
                    SourceResult.Variant(
                        id: report.id, path: path, width: report.width, height: report.height,
                        format: report.format.rawValue,
                        bytes: report.bytes, milliseconds: report.milliseconds))
            }
            return SourceResult(source: source.path, bytesIn: bytes.count, variants: await written.all, failure: nil)
        } catch let error as ImagingError {
            let code =
                error.code == .internal && error.message.hasPrefix("cannot write") ? "io_error" : error.code.rawValue
            return SourceResult(
                source: source.path, bytesIn: bytes.count, variants: await written.all,
                failure: .init(code: code, message: error.message))
        } catch {
            return SourceResult(
                source: source.path, bytesIn: bytes.count, variants: await written.all,
                failure: .init(code: "io_error", message: "\(error.localizedDescription)"))
        }
    }
}

/// Variants of one source written so far (they arrive from the engine one by one).
actor WrittenVariants {
    private(set) var all: [SourceResult.Variant] = []
    func add(_ variant: SourceResult.Variant) { all.append(variant) }
}
