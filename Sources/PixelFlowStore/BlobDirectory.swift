import NIOCore
import PixelFlowProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blobs too large to keep inside the database: one file per SHA-256 under `sha256/ab/<hex>`, written to `tmp/`,
/// flushed, then renamed into place, so a file under its name is always whole. Reads check size and hash.
struct BlobDirectory: Sendable {
    let root: String

    /// Creates the layout (the 256 fan-out directories and `tmp/`) and empties `tmp/` of a crashed run's leftovers.
    init(root: String) throws(StoreError) {
        self.root = root
        try Self.makeDirectory(root)
        try Self.makeDirectory(root + "/sha256")
        try Self.makeDirectory(root + "/tmp")
        for byte in 0..<256 { try Self.makeDirectory(root + "/sha256/" + Self.hex([UInt8(byte)])) }
        Self.removeContents(of: root + "/tmp")
    }

    func path(of sha256: [UInt8]) -> String { Self.path(of: sha256, in: root) }

    static func path(of sha256: [UInt8], in root: String) -> String {
        let hex = hex(sha256)
        return "\(root)/sha256/\(hex.prefix(2))/\(hex)"
    }

    /// Writes the blob unless a file of the right size is already there (content addressing: same name, same bytes).
    func write(_ bytes: ByteBuffer, sha256: [UInt8]) throws(StoreError) {
        let target = path(of: sha256)
        var status = stat()
        if stat(target, &status) == 0, Int(status.st_size) == bytes.readableBytes { return }
        let staging = "\(root)/tmp/\(Self.hex(sha256)).\(UInt32.random(in: 0...UInt32.max))"
        let fd = Glibc.open(staging, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.failure("create \(staging)") }
        var written = 0
        let ok = bytes.withUnsafeReadableBytes { raw -> Bool in
            guard let base = raw.baseAddress else { return fdatasync(fd) == 0 }
            while written < raw.count {
                let n = Glibc.write(fd, base + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += n
            }
            return fdatasync(fd) == 0
        }
        let error = Self.failure("write \(staging)")
        close(fd)
        guard ok else {
            unlink(staging)
            throw error
        }
        guard rename(staging, target) == 0 else {
            let failure = Self.failure("rename \(staging) to \(target)")
            unlink(staging)
            throw failure
        }
        try Self.syncDirectory(String(target[..<(target.lastIndex(of: "/") ?? target.endIndex)]))
    }

    /// The blob's bytes; a missing file, a wrong size or a wrong hash is an `.io` error naming the blob.
    func read(sha256: [UInt8], size: Int) throws(StoreError) -> ByteBuffer {
        let file = path(of: sha256)
        let fd = Glibc.open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.failure("open blob \(Self.hex(sha256).prefix(12))…") }
        defer { close(fd) }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(size + 1)
        var total = 0
        while true {
            let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 64 * 1024) { raw in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.read(fd, base, raw.count)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure("read blob \(Self.hex(sha256).prefix(12))…")
            }
            if n == 0 { break }
            total += n
            guard total <= size else { break }
        }
        guard total == size else {
            throw StoreError(.io, "blob \(Self.hex(sha256).prefix(12))… is damaged: \(total) of \(size) bytes")
        }
        try Self.check(buffer, sha256: sha256)
        return buffer
    }

    func delete(_ sha256: [UInt8]) { unlink(path(of: sha256)) }

    static func check(_ bytes: ByteBuffer, sha256: [UInt8]) throws(StoreError) {
        guard PixelFlowProtocol.SHA256Digest.of(bytes) == sha256 else {
            throw StoreError(.io, "blob \(hex(sha256).prefix(12))… is damaged: its content does not match its hash")
        }
    }

    static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    private static func makeDirectory(_ path: String) throws(StoreError) {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw failure("create directory \(path)") }
    }

    private static func syncDirectory(_ path: String) throws(StoreError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open directory \(path)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("sync directory \(path)") }
    }

    private static func removeContents(of directory: String) {
        guard let dir = opendir(directory) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { unlink(directory + "/" + name) }
        }
    }

    /// The current `errno` as an `.io` error: what failed and the system's reason.
    static func failure(_ what: String) -> StoreError {
        StoreError(.io, "cannot \(what): \(String(cString: strerror(errno)))")
    }
}
