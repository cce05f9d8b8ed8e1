import Foundation
import PixelFlowImaging

/// Where `pixelflow process` prints: JSON lines on standard output, the summary after them.
enum ProcessOutput {
    static func printLine(_ result: SourceResult) {
        FileHandle.standardOutput.write(Data((ProcessJSONLine.render(result) + "\n").utf8))
    }

    static func printSummary(_ summary: ProcessSummary, toStandardError: Bool) {
        let text = summary.text
        (toStandardError ? FileHandle.standardError : FileHandle.standardOutput).write(Data(text.utf8))
    }
}

/// Totals over the batch.
struct ProcessSummary {
    var images = 0
    var bytesIn = 0
    var bytesOut = 0
    var variants = 0
    var failures: [(source: String, error: SourceResult.Failure)] = []
    var elapsed: Duration = .zero

    mutating func add(_ result: SourceResult) {
        images += 1
        bytesIn += result.bytesIn
        bytesOut += result.variants.reduce(0) { $0 + $1.report.bytes }
        variants += result.variants.count
        if let failure = result.failure { failures.append((result.source, failure)) }
    }

    var text: String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(images) / seconds : 0
        var lines = [
            String(format: "%d images (%d variants) in %.2f s, %.2f images/s; %@ in, %@ out; %d failed",
                   images, variants, seconds, rate, Self.size(bytesIn), Self.size(bytesOut), failures.count),
        ]
        for failure in failures {
            lines.append("  failed: \(failure.source): \(failure.error.code): \(failure.error.message)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func size(_ bytes: Int) -> String {
        switch bytes {
        case ..<1024: "\(bytes) B"
        case ..<(1024 * 1024): String(format: "%.1f KiB", Double(bytes) / 1024)
        default: String(format: "%.1f MiB", Double(bytes) / 1024 / 1024)
        }
    }
}
