import CLZ4

/// LZ4 block format. A block carries no size of its own: the chunk header declares it, and decoding
/// never writes past that declared size.
public enum LZ4 {
    public static func compress(_ input: UnsafeRawBufferPointer) throws(CompressionError) -> [UInt8] {
        guard input.count <= Int(LZ4_MAX_INPUT_SIZE) else {
            throw CompressionError(.inputTooLarge, "lz4 cannot compress \(input.count) bytes")
        }
        let bound = Int(LZ4_compressBound(Int32(input.count)))
        return [UInt8](unsafeUninitializedCapacity: max(bound, 1)) { buffer, count in
            let written =
                input.baseAddress.map { source in
                    LZ4_compress_default(
                        source.assumingMemoryBound(to: CChar.self),
                        UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self),
                        Int32(input.count), Int32(bound))
                } ?? 0
            count = input.count == 0 ? 0 : Int(max(written, 0))
        }
    }

    /// Decodes a block that must expand to exactly `declaredSize` bytes.
    public static func decompress(
        _ input: UnsafeRawBufferPointer, declaredSize: Int
    ) throws(CompressionError) -> [UInt8] {
        guard declaredSize <= Int(LZ4_MAX_INPUT_SIZE), input.count <= Int(Int32.max) else {
            throw CompressionError(
                .declaredSizeOverLimit, "lz4 block of \(declaredSize) bytes is over the codec's limit")
        }
        if declaredSize == 0 && input.count <= 1 {
            // An empty input compresses to the single token 0x00 (or nothing).
            guard input.isEmpty || input[0] == 0 else { throw CompressionError(.corrupt, "lz4: corrupt block") }
            return []
        }
        var decoded: Int32 = -1
        let output = [UInt8](unsafeUninitializedCapacity: max(declaredSize, 1)) { buffer, count in
            if let source = input.baseAddress {
                decoded = LZ4_decompress_safe(
                    source.assumingMemoryBound(to: CChar.self),
                    UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self),
                    Int32(input.count), Int32(declaredSize))
            }
            count = max(Int(decoded), 0)
        }
        guard decoded >= 0 else {
            throw CompressionError(
                .corrupt, "lz4: corrupt block, or it expands beyond the declared \(declaredSize) bytes")
        }
        guard Int(decoded) == declaredSize else {
            throw CompressionError(.sizeMismatch, "lz4 block produced \(decoded) bytes, chunk declares \(declaredSize)")
        }
        return output
    }
}
