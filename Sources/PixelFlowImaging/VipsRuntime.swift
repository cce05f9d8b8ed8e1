import CVipsShim
import Foundation

/// libvips, configured once per process for untrusted input served by a worker.
public enum VipsRuntime {
    /// `static let` gives a thread-safe, run-once initialiser.
    private static let started: Void = {
        guard pf_vips_init("pixelflow") == 0 else {
            fatalError("libvips failed to start: \(VipsErrorBuffer.take())")
        }
        // Hostile input makes libvips log a warning per failed tile; the error buffer already says why.
        // PIXELFLOW_VIPS_WARNINGS=1 keeps them, for debugging.
        if getenv("PIXELFLOW_VIPS_WARNINGS") == nil { pf_vips_silence_warnings() }
        // Operation cache off: every job has new input, a cache only holds memory.
        vips_cache_set_max(0)
        // One libvips thread per job: the engine parallelises across jobs instead.
        vips_concurrency_set(1)
        // Loaders libvips marks untrusted (svg, pdf, ppm, fits, magick, ...) refuse to run.
        vips_block_untrusted_set(1)
    }()

    /// Starts libvips if it is not running yet. Cheap after the first call.
    public static func start() {
        _ = started
    }

    public static var version: String {
        start()
        return String(cString: vips_version_string())
    }

    /// Live libvips objects (images, operations). Returns to its baseline when nothing leaks.
    public static var liveObjectCount: Int {
        start()
        return Int(pf_object_count())
    }

    /// The most pixel memory libvips has tracked at once since the process started.
    public static var trackedMemoryHighWater: Int {
        start()
        return vips_tracked_get_mem_highwater()
    }

    /// Bytes of pixel memory libvips is tracking right now.
    public static var trackedMemory: Int {
        start()
        return vips_tracked_get_mem()
    }
}
