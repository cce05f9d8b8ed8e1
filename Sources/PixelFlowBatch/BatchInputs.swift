import Foundation
import PixelFlowPipeline

/// A usage problem: reported with exit status 2 before any work starts.
public struct BatchUsageError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One source file and the folder its variants go to: `DIR/<source-stem>/`.
public struct BatchSource: Sendable, Hashable {
    public let path: String
    public let outputFolder: URL

    public init(path: String, outputFolder: URL) {
        self.path = path
        self.outputFolder = outputFolder
    }

    /// `DIR/<source-stem>/<variant-id>.<ext>`.
    public func outputURL(variantID: String, fileExtension: String) -> URL {
        outputFolder.appendingPathComponent("\(variantID).\(fileExtension)")
    }
}

/// The inputs of a batch command (`pixelflow process`, `pfctl process`, `pfctl bench`): the pipeline from
/// `--pipeline FILE` or `--variant SPEC`..., and the sources from `FILE|DIR...`.
public enum BatchInputs {
    public static let imageExtensions: Set<String> = [
        "jpg", "jpeg", "png", "webp", "heic", "heif", "avif", "tif", "tiff", "gif",
    ]

    /// `--pipeline FILE` (a job object with "pipeline", or a bare array), or `--variant` specs, or the canonical
    /// pipeline when neither is given.
    public static func pipeline(file: String?, compact: [String]) throws(BatchUsageError) -> Pipeline {
        do {
            switch (file, compact.isEmpty) {
            case (.some, false):
                throw BatchUsageError("give either --pipeline or --variant, not both")
            case (.some(let path), true):
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw BatchUsageError("cannot read the pipeline file \(path)")
                }
                return try PipelineDecoder.decode(json: data)
            case (nil, false):
                return try PipelineDecoder.decode(compact: compact)
            case (nil, true):
                return .canonical
            }
        } catch let error as PipelineError {
            throw BatchUsageError("invalid pipeline: \(error.message)")
        } catch let error as BatchUsageError {
            throw error
        } catch {
            throw BatchUsageError("\(error)")
        }
    }

    /// Files named directly are always taken; directories are searched recursively for image extensions
    /// (sorted). When two sources share a stem, later ones go to `<stem>-2`, `<stem>-3`, ...
    public static func sources(_ inputs: [String], outputRoot: URL) throws(BatchUsageError) -> [BatchSource] {
        var paths: [String] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
                throw BatchUsageError("no such file or directory: \(input)")
            }
            if isDirectory.boolValue {
                paths += imageFiles(under: input)
            } else {
                paths.append(input)
            }
        }
        guard !paths.isEmpty else { throw BatchUsageError("no image files found in \(inputs.joined(separator: " "))") }

        var usedStems: [String: Int] = [:]
        return paths.map { path in
            let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            let seen = usedStems[stem, default: 0] + 1
            usedStems[stem] = seen
            let folder = seen == 1 ? stem : "\(stem)-\(seen)"
            return BatchSource(path: path, outputFolder: outputRoot.appendingPathComponent(folder, isDirectory: true))
        }
    }

    private static func imageFiles(under directory: String) -> [String] {
        let root = URL(fileURLWithPath: directory)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        else { return [] }
        var found: [String] = []
        for case let url as URL in walker where imageExtensions.contains(url.pathExtension.lowercased()) {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                found.append(url.path)
            }
        }
        return found.sorted()
    }
}
