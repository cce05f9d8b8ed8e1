import Foundation
import Logging

/// The process's open-file limit, raised to the hard limit: each connection holds a descriptor, and the soft
/// limit (often 1,024) would refuse connections long before `limits.max_connections` does.
enum FileDescriptorLimit {
    /// Descriptors the coordinator needs besides its connections: the store, its blobs, listeners, the HTTP API.
    static let reserve = 256

    /// Raises the soft limit to the hard one and warns when even that is below `connections` + `reserve`.
    static func raise(toHold connections: Int, logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let needed = rlim_t(connections + reserve)
        if limit.rlim_cur < needed {
            logger.warning(
                "open-file limit \(limit.rlim_cur) is below limits.max_connections + \(reserve) = \(needed): connections beyond it fail to be accepted; raise it (ulimit -n, LimitNOFILE=) or lower limits.max_connections"
            )
        }
    }
}
