import Foundation
import PixelFlowImaging
import PixelFlowPipeline

/// Runs every source through the engine, `threads` at a time, writing variants as they arrive.
struct ProcessBatch {
    let setup: ProcessSetup

    struct Outcome {
        var failures: [(source: String, error: SourceResult.Failure)] = []
    }

    func run() async -> Outcome {
        let engine = ImagingEngine(threads: setup.threads, limits: setup.limits)
        let progress = ProcessProgress(total: setup.sources.count)
        var summary = ProcessSummary()
        let clock = ContinuousClock.now

        await withTaskGroup(of: SourceResult.self) { group in
            var pending = setup.sources.makeIterator()
            func startNext() {
                guard let source = pending.next() else { return }
                group.addTask { await Self.process(source, pipeline: setup.pipeline, engine: engine) }
            }
            for _ in 0..<setup.threads { startNext() }
            while let result = await group.next() {
                summary.add(result)
                if setup.json { ProcessOutput.printLine(result) }
                progress.advance(failed: result.failure != nil)
                startNext()
            }
        }
        progress.finish()
        summary.elapsed = ContinuousClock.now - clock
        ProcessOutput.printSummary(summary, toStandardError: setup.json)
        return Outcome(failures: summary.failures)
    }

    static func process(_ source: ProcessSetup.Source, pipeline: Pipeline, engine: ImagingEngine) async -> SourceResult {
        let written = WrittenVariants()
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: source.path))
        } catch {
            return SourceResult(source: source.path, bytesIn: 0, variants: [],
                                failure: .init(code: "io_error", message: "cannot read the source: \(error.localizedDescription)"))
        }
        do {
            try FileManager.default.createDirectory(at: source.outputFolder, withIntermediateDirectories: true)
            _ = try await engine.process(source: bytes, pipeline: pipeline) { variant in
                let url = source.outputFolder.appendingPathComponent("\(variant.id).\(variant.format.fileExtension)")
                do {
                    try Data(variant.data).write(to: url)
                } catch {
                    throw ImagingError(.internal, "cannot write \(url.path): \(error.localizedDescription)")
                }
                await written.add(SourceResult.Variant(report: variant.report, path: url.path))
            }
            return SourceResult(source: source.path, bytesIn: bytes.count, variants: await written.all, failure: nil)
        } catch let error as ImagingError {
            let code = error.code == .internal && error.message.hasPrefix("cannot write") ? "io_error" : error.code.rawValue
            return SourceResult(source: source.path, bytesIn: bytes.count, variants: await written.all,
                                failure: .init(code: code, message: error.message))
        } catch {
            return SourceResult(source: source.path, bytesIn: bytes.count, variants: await written.all,
                                failure: .init(code: "io_error", message: "\(error.localizedDescription)"))
        }
    }
}

/// Variants of one source written so far (they arrive from the engine one by one).
actor WrittenVariants {
    private(set) var all: [SourceResult.Variant] = []
    func add(_ variant: SourceResult.Variant) { all.append(variant) }
}

/// One source's outcome, as printed by `--json`.
struct SourceResult: Sendable {
    struct Variant: Sendable {
        let report: VariantReport
        let path: String
    }

    struct Failure: Sendable {
        let code: String
        let message: String
    }

    let source: String
    let bytesIn: Int
    let variants: [Variant]
    let failure: Failure?
}
