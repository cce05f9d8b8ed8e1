import Crypto
import NIOCore

/// SHA-256 of a buffer's readable bytes: how idempotent resubmissions are compared without keeping the bytes.
public enum SHA256Digest {
    public static func of(_ buffer: ByteBuffer) -> [UInt8] {
        buffer.withUnsafeReadableBytes { Array(SHA256.hash(data: $0)) }
    }
}

/// SHA-256 over a payload fed chunk by chunk, holding no more than the hasher's state.
public struct StreamingSHA256 {
    private var hasher = SHA256()

    public init() {}

    public mutating func update(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
    }

    public func finalize() -> [UInt8] {
        Array(hasher.finalize())
    }
}
