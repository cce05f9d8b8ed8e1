import Foundation

/// A one-line progress bar on standard error, drawn only when standard error is a terminal.
public final class BatchProgress: @unchecked Sendable {
    private let total: Int
    /// What is counted: `images` for `process`, `jobs` for `fetch`.
    private let unit: String
    private let enabled: Bool
    private let start = ContinuousClock.now
    private var done = 0
    private var failed = 0

    public init(total: Int, unit: String = "images", enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.total = total
        self.unit = unit
        self.enabled = enabled
    }

    /// Called from the batch loop only (one task), so no lock is needed.
    public func advance(failed didFail: Bool) {
        done += 1
        if didFail { failed += 1 }
        guard enabled else { return }
        StandardStreams.write(line(elapsed: ContinuousClock.now - start), to: .standardError)
    }

    /// The bar as drawn after `done` of `total` sources.
    func line(elapsed: Duration) -> String {
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        return String(format: "\r[%@] %d/%d  %.1f %@/s  %d failed", bar, done, total, rate, unit, failed)
    }

    /// Takes the bar off the line, so a line written to standard output does not land behind it; the next
    /// `advance` draws it again.
    public func clear() {
        guard enabled, done > 0 else { return }
        StandardStreams.write("\r\u{1B}[K", to: .standardError)
    }

    public func finish() { clear() }
}
