#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` on `DIR/LOCK`, held while the store is open: a second coordinator on the same data
/// directory is refused at once instead of writing beside the first. The kernel drops it when the process dies.
final class DirectoryLock: Sendable {
    private let fd: Int32

    init(directory: String) throws(StoreError) {
        let path = directory + "/LOCK"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BlobDirectory.failure("open \(path)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StoreError(.locked, "\(directory) is in use by another coordinator (\(path) is locked)")
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
