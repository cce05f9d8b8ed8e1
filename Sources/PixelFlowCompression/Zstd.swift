import CZstd

/// Bounded zstd: one frame in, at most `limit` bytes out, window memory capped.
public enum Zstd {
    /// The largest window a peer may make us allocate (2^23 = 8 MiB). Chunks are far smaller than this,
    /// so an honest sender never comes close; a hostile frame asking for more is refused by zstd itself.
    public static let maxWindowLog: Int32 = 23

    public static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = 1) throws(CompressionError) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        if ZSTD_isError(bound) != 0 {
            throw CompressionError(.inputTooLarge, "zstd cannot compress \(input.count) bytes")
        }
        var failure: String?
        let output = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            let written = ZSTD_compress(buffer.baseAddress, bound, input.baseAddress, input.count, level)
            if ZSTD_isError(written) != 0 {
                failure = String(cString: ZSTD_getErrorName(written))
                count = 0
            } else {
                count = written
            }
        }
        if let failure { throw CompressionError(.inputTooLarge, "zstd: \(failure)") }
        return output
    }

    /// Decompresses a single zstd frame that must expand to exactly `declaredSize` bytes (at most `limit`).
    /// A frame whose own header states another size is refused before any output is allocated.
    public static func decompress(
        _ input: UnsafeRawBufferPointer, declaredSize: Int, limit: Int
    ) throws(CompressionError) -> [UInt8] {
        guard declaredSize <= limit else {
            throw CompressionError(.declaredSizeOverLimit, "declared \(declaredSize) bytes, limit is \(limit)")
        }
        let contentSize = try singleFrameContentSize(input)
        if let contentSize {
            guard contentSize <= UInt64(limit) else {
                throw CompressionError(.outputOverLimit, "zstd frame declares \(contentSize) bytes, limit is \(limit)")
            }
            guard contentSize == UInt64(declaredSize) else {
                throw CompressionError(
                    .sizeMismatch, "zstd frame declares \(contentSize) bytes, chunk declares \(declaredSize)")
            }
        }
        let output = try streamDecompress(input, limit: declaredSize)
        guard output.count == declaredSize else {
            throw CompressionError(
                .sizeMismatch, "zstd frame produced \(output.count) bytes, chunk declares \(declaredSize)")
        }
        return output
    }

    /// Decompresses a single zstd frame of unknown size, refusing to produce more than `limit` bytes.
    public static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(CompressionError) -> [UInt8] {
        if let contentSize = try singleFrameContentSize(input), contentSize > UInt64(limit) {
            throw CompressionError(.outputOverLimit, "zstd frame declares \(contentSize) bytes, limit is \(limit)")
        }
        return try streamDecompress(input, limit: limit)
    }

    /// Checks that `input` is exactly one zstd frame and returns the content size its header states, if any.
    private static func singleFrameContentSize(_ input: UnsafeRawBufferPointer) throws(CompressionError) -> UInt64? {
        let frameSize = ZSTD_findFrameCompressedSize(input.baseAddress, input.count)
        if ZSTD_isError(frameSize) != 0 {
            throw CompressionError(.corrupt, "zstd: \(String(cString: ZSTD_getErrorName(frameSize)))")
        }
        guard frameSize == input.count else {
            throw CompressionError(.trailingData, "\(input.count - frameSize) bytes follow the zstd frame")
        }
        let contentSize = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        switch contentSize {
        case ZSTD_CONTENTSIZE_ERROR: throw CompressionError(.corrupt, "zstd: unreadable frame header")
        case ZSTD_CONTENTSIZE_UNKNOWN: return nil
        default: return contentSize
        }
    }

    /// Streams the frame through a bounded output buffer that grows in steps up to `limit`.
    private static func streamDecompress(
        _ input: UnsafeRawBufferPointer, limit: Int
    ) throws(CompressionError) -> [UInt8] {
        guard let context = ZSTD_createDCtx() else {
            throw CompressionError(.corrupt, "zstd: cannot create a decompression context")
        }
        defer { ZSTD_freeDCtx(context) }
        ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, maxWindowLog)

        let step = max(ZSTD_DStreamOutSize(), 64 * 1024)
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, 1 << 20))
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var scratch = [UInt8](repeating: 0, count: min(step, max(limit, 1)))
        while true {
            let result = scratch.withUnsafeMutableBytes { scratchBytes in
                var sink = ZSTD_outBuffer(dst: scratchBytes.baseAddress, size: scratchBytes.count, pos: 0)
                let code = ZSTD_decompressStream(context, &sink, &source)
                return (code: code, produced: sink.pos)
            }
            if ZSTD_isError(result.code) != 0 {
                throw CompressionError(.corrupt, "zstd: \(String(cString: ZSTD_getErrorName(result.code)))")
            }
            guard output.count + result.produced <= limit else {
                throw CompressionError(.outputOverLimit, "zstd output exceeds the limit of \(limit) bytes")
            }
            output.append(contentsOf: scratch[0..<result.produced])
            if result.code == 0 { return output }  // frame complete
            if result.produced == 0 && source.pos == source.size {
                throw CompressionError(.corrupt, "zstd: truncated frame")
            }
        }
    }
}
