import CVipsShim
import Foundation

public enum MemoryTuning {
    /// Caps glibc's malloc arenas, unless MALLOC_ARENA_MAX is set. glibc gives each libvips thread its own arena,
    /// which inflates peak RSS by about a third at the same speed (docs/benchmarks.md). Call before threads start.
    public static func limitMallocArenas(_ arenas: Int32 = 2) {
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = pf_malloc_arena_max(arenas)
    }

    /// Serves every allocation of `bytes` or more with its own mapping, returned to the system when freed, unless
    /// the glibc tunable or MALLOC_MMAP_THRESHOLD_ is set. glibc's default threshold rises to 32 MiB after the first
    /// large free, after which decoders' buffers come from the arenas and stay in RSS as fragments: a worker's peak
    /// at 2 slots fell from 264–327 to 248–267 MiB at the same CPU per image (docs/benchmarks.md).
    public static func mapLargeAllocations(from bytes: Int32 = 1 << 20) {
        let environment = ProcessInfo.processInfo.environment
        guard environment["MALLOC_MMAP_THRESHOLD_"] == nil,
            !(environment["GLIBC_TUNABLES"] ?? "").contains("mmap_threshold")
        else { return }
        _ = pf_malloc_mmap_threshold(bytes)
    }
}
