import Foundation

/// The benchmark corpus: every image file under a folder (as `../shared/corpus.sh` lays it out), grouped by
/// extension.
struct Corpus {
    struct Image {
        var path: String
        var format: String
        var bytes: [UInt8]
    }

    var images: [Image]

    init(directory: String) throws {
        let root = URL(fileURLWithPath: directory)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        else {
            throw BenchFailure("cannot read \(directory)")
        }
        let formats: Set<String> = ["jpg", "jpeg", "png", "webp", "heic", "avif", "tif", "tiff", "gif"]
        var images: [Image] = []
        for case let url as URL in walker where formats.contains(url.pathExtension.lowercased()) {
            let format = url.pathExtension.lowercased() == "jpeg" ? "jpg" : url.pathExtension.lowercased()
            images.append(Image(path: url.path, format: format, bytes: Array(try Data(contentsOf: url))))
        }
        guard !images.isEmpty else {
            throw BenchFailure("no images under \(directory); build them with ../shared/corpus.sh DIR")
        }
        self.images = images.sorted { $0.path < $1.path }
    }

    var byFormat: [(format: String, images: [Image])] {
        Dictionary(grouping: images, by: \.format).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Wall-clock timing of a closure, in seconds.
func measure(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// The median of several runs: the machines are shared, single runs are noisy.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// What the figures were measured on, for the report.
func machineDescription() -> String {
    let cpu =
        (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
        .split(separator: "\n").first { $0.hasPrefix("model name") }?
        .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
    return "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu)"
}
