import CVipsShim
import Foundation

/// Stops one job: at its deadline or when its caller goes away.
///
/// libvips cannot abort a call from outside, but it checks an image's `kill` flag as it computes each
/// region: `stop` sets that flag on every image the job registered, so the running call fails within a
/// tile or strip, and the engine reports `timeout` (or `cancelled`). The engine also checks between steps.
final class JobControl: @unchecked Sendable {
    enum Outcome: Equatable {
        case running
        case timedOut
        case cancelled
    }

    private let lock = NSLock()
    private var outcome = Outcome.running
    /// Referenced images: the watchdog may touch them after the job's own references are gone.
    private var watched: [UnsafeMutablePointer<VipsImage>] = []
    private let timeout: Duration

    init(timeout: Duration) {
        self.timeout = timeout
    }

    /// Arms the deadline. The timer runs on a Dispatch queue, never on a libvips thread.
    func startClock() {
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: nanoseconds))) { [weak self] in
            self?.stop(.timedOut)
        }
    }

    func stop(_ reason: Outcome) {
        lock.lock()
        defer { lock.unlock() }
        guard outcome == .running, reason != .running else { return }
        outcome = reason
        for image in watched { vips_image_set_kill(image, 1) }
    }

    func watch(_ image: VipsImageRef) {
        lock.lock()
        defer { lock.unlock() }
        g_object_ref(UnsafeMutableRawPointer(image.pointer))
        watched.append(image.pointer)
        if outcome != .running { vips_image_set_kill(image.pointer, 1) }
    }

    /// Stops watching `image` and drops the reference `watch` took, so its memory can go before the job ends.
    func unwatch(_ image: VipsImageRef) {
        lock.lock()
        defer { lock.unlock() }
        guard let index = watched.firstIndex(of: image.pointer) else { return }
        watched.remove(at: index)
        g_object_unref(UnsafeMutableRawPointer(image.pointer))
    }

    /// Drops the references taken by `watch`. Call once, when the job ends.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        for image in watched { g_object_unref(UnsafeMutableRawPointer(image)) }
        watched.removeAll()
    }

    func throwIfStopped() throws(ImagingError) {
        lock.lock()
        let current = outcome
        lock.unlock()
        switch current {
        case .running: return
        case .timedOut: throw ImagingError(.timeout, "the job ran longer than its limit (job_timeout_ms) of \(timeout)")
        case .cancelled: throw ImagingError(.cancelled, "the job was cancelled")
        }
    }
}
