import Foundation

/// A one-line progress bar on standard error, drawn only when standard error is a terminal.
final class ProcessProgress: @unchecked Sendable {
    private let total: Int
    private let enabled = isatty(STDERR_FILENO) == 1
    private let start = ContinuousClock.now
    private var done = 0
    private var failed = 0

    init(total: Int) {
        self.total = total
    }

    /// Called from the batch loop only (one task), so no lock is needed.
    func advance(failed didFail: Bool) {
        done += 1
        if didFail { failed += 1 }
        guard enabled else { return }
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "\r[%@] %d/%d  %.1f images/s  %d failed", bar, done, total, rate, failed)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        guard enabled, done > 0 else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
