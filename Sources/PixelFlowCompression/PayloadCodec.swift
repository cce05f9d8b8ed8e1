/// How a payload chunk's bytes are encoded on the wire. The raw values are the wire values (PROTOCOL.md §7).
public enum PayloadCodec: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case none = 0
    case zstd = 1
    case lz4 = 2

    public var description: String {
        switch self {
        case .none: "none"
        case .zstd: "zstd"
        case .lz4: "lz4"
        }
    }

    /// Compresses `input`. For `.none` the input is returned unchanged.
    public func compress(_ input: UnsafeRawBufferPointer, level: Int32 = 1) throws(CompressionError) -> [UInt8] {
        switch self {
        case .none: Array(input.bindMemory(to: UInt8.self))
        case .zstd: try Zstd.compress(input, level: level)
        case .lz4: try LZ4.compress(input)
        }
    }

    /// Decompresses `input`, which must produce exactly `declaredSize` bytes, never more than `limit`.
    public func decompress(
        _ input: UnsafeRawBufferPointer, declaredSize: Int, limit: Int
    ) throws(CompressionError) -> [UInt8] {
        guard declaredSize <= limit else {
            throw CompressionError(.declaredSizeOverLimit, "declared \(declaredSize) bytes, limit is \(limit)")
        }
        switch self {
        case .none:
            guard input.count == declaredSize else {
                throw CompressionError(.sizeMismatch, "declared \(declaredSize) bytes, got \(input.count)")
            }
            return Array(input.bindMemory(to: UInt8.self))
        case .zstd:
            return try Zstd.decompress(input, declaredSize: declaredSize, limit: limit)
        case .lz4:
            return try LZ4.decompress(input, declaredSize: declaredSize)
        }
    }
}
