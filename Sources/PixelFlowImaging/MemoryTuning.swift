import CVipsShim
import Foundation

public enum MemoryTuning {
    /// Caps glibc's malloc arenas, unless MALLOC_ARENA_MAX is set. glibc gives each libvips thread its own arena,
    /// which inflates peak RSS by about a third at the same speed (docs/benchmarks.md). Call before threads start.
    public static func limitMallocArenas(_ arenas: Int32 = 2) {
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = pf_malloc_arena_max(arenas)
    }
}
