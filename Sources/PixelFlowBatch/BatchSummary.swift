import Foundation

/// Totals over the batch, printed once at the end.
public struct BatchSummary: Sendable {
    public var images = 0
    public var bytesIn = 0
    public var bytesOut = 0
    public var variants = 0
    public var retries = 0
    public var failures: [(source: String, error: SourceResult.Failure)] = []
    public var elapsed: Duration = .zero
    /// Whether the runner can retry (the cluster can, the in-process engine cannot): only then does the text
    /// mention retries, so `pixelflow process` prints exactly what it always did.
    public var reportsRetries: Bool

    public init(reportsRetries: Bool = false) {
        self.reportsRetries = reportsRetries
    }

    public mutating func add(_ result: SourceResult) {
        images += 1
        bytesIn += result.bytesIn
        bytesOut += result.variants.reduce(0) { $0 + $1.bytes }
        variants += result.variants.count
        retries += result.retries
        if let failure = result.failure { failures.append((result.source, failure)) }
    }

    public var text: String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(images) / seconds : 0
        var first = String(
            format: "%d images (%d variants) in %.2f s, %.2f images/s; %@ in, %@ out; %d failed",
            images, variants, seconds, rate, Self.size(bytesIn), Self.size(bytesOut), failures.count)
        if reportsRetries {
            first += "; \(retries) \(retries == 1 ? "retry" : "retries") after rate limiting"
        }
        var lines = [first]
        for failure in failures {
            lines.append("  failed: \(failure.source): \(failure.error.code): \(failure.error.message)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func size(_ bytes: Int) -> String {
        switch bytes {
        case ..<1024: "\(bytes) B"
        case ..<(1024 * 1024): String(format: "%.1f KiB", Double(bytes) / 1024)
        default: String(format: "%.1f MiB", Double(bytes) / 1024 / 1024)
        }
    }
}
