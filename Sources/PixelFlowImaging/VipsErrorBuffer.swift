import CVipsShim
import Foundation

/// libvips keeps one process-wide error buffer that every thread appends to.
///
/// We copy and clear it under one lock right after each failure. Two jobs failing at the same instant can
/// still see each other's text in their messages (libvips appends without our lock); the error *code* is
/// decided by the engine, never parsed from the text, so only the human-readable message may mix.
enum VipsErrorBuffer {
    private static let lock = NSLock()

    static func take() -> String {
        lock.lock()
        defer { lock.unlock() }
        let text = String(cString: vips_error_buffer())
        vips_error_clear()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
    }

    static func clear() {
        lock.lock()
        defer { lock.unlock() }
        vips_error_clear()
    }
}

/// A failed libvips call, with the error buffer's text at the time.
struct VipsFailure: Error {
    let operation: String
    let message: String

    init(_ operation: String) {
        self.operation = operation
        let text = VipsErrorBuffer.take()
        self.message = text.isEmpty ? "\(operation) failed" : text
    }
}
