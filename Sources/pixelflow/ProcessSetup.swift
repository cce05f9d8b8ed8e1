import Foundation
import PixelFlowImaging
import PixelFlowPipeline

/// A usage problem: reported with exit status 2 before any work starts.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Everything `pixelflow process` needs, checked: the pipeline, the sources and their output folders.
struct ProcessSetup {
    struct Source {
        let path: String
        let outputFolder: URL
    }

    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "webp", "heic", "heif", "avif", "tif", "tiff", "gif"]

    let pipeline: Pipeline
    let sources: [Source]
    let outputRoot: URL
    let threads: Int
    let json: Bool
    let limits: ImagingLimits

    init(command: ProcessCommand) throws(UsageError) {
        guard command.threads >= 1 else { throw UsageError("--threads must be at least 1") }
        guard command.limits.jobTimeoutMilliseconds >= 1, command.limits.maxPixels >= 1, command.limits.maxSide >= 1,
              command.limits.maxFrames >= 1, command.limits.maxSourceBytes >= 1 else {
            throw UsageError("limits must be positive")
        }
        pipeline = try Self.pipeline(file: command.pipeline, compact: command.variants)
        guard !command.inputs.isEmpty else { throw UsageError("give at least one FILE or DIR") }
        outputRoot = URL(fileURLWithPath: command.output)
        sources = try Self.sources(command.inputs, outputRoot: outputRoot)
        threads = command.threads
        json = command.json
        limits = command.limits.imagingLimits
    }

    static func pipeline(file: String?, compact: [String]) throws(UsageError) -> Pipeline {
        do {
            switch (file, compact.isEmpty) {
            case (.some, false):
                throw UsageError("give either --pipeline or --variant, not both")
            case (.some(let path), true):
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw UsageError("cannot read the pipeline file \(path)")
                }
                return try PipelineDecoder.decode(json: data)
            case (nil, false):
                return try PipelineDecoder.decode(compact: compact)
            case (nil, true):
                return .canonical
            }
        } catch let error as PipelineError {
            throw UsageError("invalid pipeline: \(error.message)")
        } catch let error as UsageError {
            throw error
        } catch {
            throw UsageError("\(error)")
        }
    }

    static func sources(_ inputs: [String], outputRoot: URL) throws(UsageError) -> [Source] {
        var paths: [String] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
                throw UsageError("no such file or directory: \(input)")
            }
            if isDirectory.boolValue {
                paths += imageFiles(under: input)
            } else {
                paths.append(input)
            }
        }
        guard !paths.isEmpty else { throw UsageError("no image files found in \(inputs.joined(separator: " "))") }

        var usedStems: [String: Int] = [:]
        return paths.map { path in
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let seen = usedStems[stem, default: 0] + 1
            usedStems[stem] = seen
            let folder = seen == 1 ? stem : "\(stem)-\(seen)"
            return Source(path: path, outputFolder: outputRoot.appendingPathComponent(folder, isDirectory: true))
        }
    }

    private static func imageFiles(under directory: String) -> [String] {
        let root = URL(fileURLWithPath: directory)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        var found: [String] = []
        for case let url as URL in walker where imageExtensions.contains(url.pathExtension.lowercased()) {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                found.append(url.path)
            }
        }
        return found.sorted()
    }
}
