import Foundation
import PixelFlowImaging

/// The corpus, read into memory before any clock starts.
enum ImagingCorpus {
    static let extensions: Set<String> = ["jpg", "jpeg", "png", "webp", "heic", "heif", "avif", "tif", "tiff", "gif"]

    static func load(_ directory: String) throws -> [[UInt8]] {
        let root = URL(fileURLWithPath: directory)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            throw ImagingBenchError(message: "cannot read \(directory)")
        }
        var paths: [URL] = []
        for case let url as URL in walker where extensions.contains(url.pathExtension.lowercased()) {
            paths.append(url)
        }
        guard !paths.isEmpty else {
            throw ImagingBenchError(message: "no images under \(directory); build it with ../shared/corpus.sh")
        }
        return try paths.sorted { $0.path < $1.path }.map { [UInt8](try Data(contentsOf: $0)) }
    }
}

/// CPU time and peak RSS of this process (getrusage).
struct ResourceUsage {
    let cpuMilliseconds: Double
    let peakRSSKiB: Int

    static func now() -> ResourceUsage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) * 1000 + Double(usage.ru_utime.tv_usec) / 1000
        let system = Double(usage.ru_stime.tv_sec) * 1000 + Double(usage.ru_stime.tv_usec) / 1000
        return ResourceUsage(cpuMilliseconds: user + system, peakRSSKiB: Int(usage.ru_maxrss))
    }
}

enum ImagingBenchMachine {
    static func describe() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown"
        return
            "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores (nproc), \(model), libvips \(VipsRuntime.version)"
    }
}
