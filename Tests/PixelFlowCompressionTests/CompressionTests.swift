import CZstd
import Testing

@testable import PixelFlowCompression

/// Compressible but not trivial bytes: text-like with repetition.
func sampleBytes(_ count: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    var state: UInt32 = 12345
    while bytes.count < count {
        state = state &* 1_103_515_245 &+ 12345
        bytes += Array("pixel flow variant \(state % 97) ".utf8)
    }
    return Array(bytes.prefix(count))
}

/// A zstd frame without a content size in its header, as a streaming compressor writes it.
func zstdFrameWithoutContentSize(_ input: [UInt8]) -> [UInt8] {
    let context = ZSTD_createCCtx()!
    defer { ZSTD_freeCCtx(context) }
    ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 0)
    var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
    let written = output.withUnsafeMutableBytes { out in
        input.withUnsafeBytes { source in
            ZSTD_compress2(context, out.baseAddress, out.count, source.baseAddress, source.count)
        }
    }
    precondition(ZSTD_isError(written) == 0)
    return Array(output.prefix(written))
}

@Suite("Bounded zstd and lz4")
struct CompressionTests {
    @Test("round trips", arguments: [PayloadCodec.none, .zstd, .lz4], [0, 1, 1000, 300_000])
    func roundTrip(codec: PayloadCodec, size: Int) throws {
        let input = sampleBytes(size)
        let compressed = try input.withUnsafeBytes { try codec.compress($0) }
        let output = try compressed.withUnsafeBytes { try codec.decompress($0, declaredSize: size, limit: 1 << 20) }
        #expect(output == input)
        if codec != .none && size >= 1000 { #expect(compressed.count < size / 2) }
    }

    @Test("a declared size over the cap is refused before decoding", arguments: [PayloadCodec.none, .zstd, .lz4])
    func declaredOverCap(codec: PayloadCodec) throws {
        let compressed = try sampleBytes(100).withUnsafeBytes { try codec.compress($0) }
        let error = try #require(throws: CompressionError.self) {
            try compressed.withUnsafeBytes { try codec.decompress($0, declaredSize: 1 << 30, limit: 1 << 20) }
        }
        #expect(error.code == .declaredSizeOverLimit)
    }

    @Test("a zstd bomb whose header states its size is refused without decoding")
    func zstdBombWithSize() throws {
        let zeros = [UInt8](repeating: 0, count: 64 << 20)
        let bomb = try zeros.withUnsafeBytes { try Zstd.compress($0, level: 3) }
        #expect(bomb.count < 10_000)
        let error = try #require(throws: CompressionError.self) {
            try bomb.withUnsafeBytes { try Zstd.decompress($0, limit: 1 << 20) }
        }
        #expect(error.code == .outputOverLimit)
    }

    @Test("a zstd bomb without a size in its header stops at the output cap")
    func zstdBombWithoutSize() throws {
        let bomb = zstdFrameWithoutContentSize([UInt8](repeating: 0, count: 16 << 20))
        let error = try #require(throws: CompressionError.self) {
            try bomb.withUnsafeBytes { try Zstd.decompress($0, limit: 1 << 20) }
        }
        #expect(error.code == .outputOverLimit)
        let sameBombDeclaredSmall = try #require(throws: CompressionError.self) {
            try bomb.withUnsafeBytes { try Zstd.decompress($0, declaredSize: 4096, limit: 1 << 20) }
        }
        #expect(sameBombDeclaredSmall.code == .outputOverLimit)
    }

    @Test("an unknown-size zstd stream within the cap decodes")
    func unknownSizeWithinCap() throws {
        let input = sampleBytes(200_000)
        let frame = zstdFrameWithoutContentSize(input)
        #expect(try frame.withUnsafeBytes { try Zstd.decompress($0, limit: 1 << 20) } == input)
        #expect(
            try frame.withUnsafeBytes { try Zstd.decompress($0, declaredSize: input.count, limit: 1 << 20) } == input)
    }

    @Test("a zstd header that lies about the size is refused")
    func zstdLyingHeader() throws {
        let frame = try sampleBytes(1000).withUnsafeBytes { try Zstd.compress($0) }
        let error = try #require(throws: CompressionError.self) {
            try frame.withUnsafeBytes { try Zstd.decompress($0, declaredSize: 2000, limit: 1 << 20) }
        }
        #expect(error.code == .sizeMismatch)
        let shorter = zstdFrameWithoutContentSize(sampleBytes(1000))
        let short = try #require(throws: CompressionError.self) {
            try shorter.withUnsafeBytes { try Zstd.decompress($0, declaredSize: 2000, limit: 1 << 20) }
        }
        #expect(short.code == .sizeMismatch)
    }

    @Test("concatenated zstd frames are refused")
    func zstdConcatenated() throws {
        let frame = try sampleBytes(1000).withUnsafeBytes { try Zstd.compress($0) }
        let error = try #require(throws: CompressionError.self) {
            try (frame + frame).withUnsafeBytes { try Zstd.decompress($0, declaredSize: 2000, limit: 1 << 20) }
        }
        #expect(error.code == .trailingData)
    }

    @Test("truncated and garbage zstd input give corrupt", arguments: [0, 1, 5, 9])
    func zstdCorrupt(keep: Int) throws {
        let frame = try sampleBytes(5000).withUnsafeBytes { try Zstd.compress($0) }
        let truncated = Array(frame.prefix(keep == 0 ? frame.count - 3 : keep))
        let error = try #require(throws: CompressionError.self) {
            try truncated.withUnsafeBytes { try Zstd.decompress($0, declaredSize: 5000, limit: 1 << 20) }
        }
        #expect(error.code == .corrupt)
        var garbage = randomBytes(seed: UInt64(keep), count: 64)
        garbage[0...3] = [0x28, 0xB5, 0x2F, 0xFD]
        let garbageError = try #require(throws: CompressionError.self) {
            try garbage.withUnsafeBytes { try Zstd.decompress($0, declaredSize: 64, limit: 1 << 20) }
        }
        #expect([CompressionError.Code.corrupt, .trailingData].contains(garbageError.code))
    }

    @Test("lz4: corrupt blocks and lying sizes are refused")
    func lz4Hostile() throws {
        let input = sampleBytes(10_000)
        let block = try input.withUnsafeBytes { try LZ4.compress($0) }
        let tooSmall = try #require(throws: CompressionError.self) {
            try block.withUnsafeBytes { try LZ4.decompress($0, declaredSize: 5_000) }
        }
        #expect(tooSmall.code == .corrupt)
        let tooLarge = try #require(throws: CompressionError.self) {
            try block.withUnsafeBytes { try LZ4.decompress($0, declaredSize: 20_000) }
        }
        #expect(tooLarge.code == .sizeMismatch || tooLarge.code == .corrupt)
        let garbage = randomBytes(seed: 9, count: 500)
        let corrupt = try #require(throws: CompressionError.self) {
            try garbage.withUnsafeBytes { try LZ4.decompress($0, declaredSize: 10_000) }
        }
        #expect(corrupt.code == .corrupt || corrupt.code == .sizeMismatch)
    }

    @Test("the compressor skips formats that do not shrink and compresses those that do")
    func compressorPolicy() throws {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 10_000)
        var forPNG = PayloadCompressor()
        #expect(png.withUnsafeBytes { forPNG.encode($0) } == nil)

        var forText = PayloadCompressor()
        let text = sampleBytes(50_000)
        let first = try #require(text.withUnsafeBytes { forText.encode($0) })
        #expect(first.codec == .zstd && first.bytes.count < 25_000)
        #expect(text.withUnsafeBytes { forText.encode($0) }?.codec == .zstd)

        var forNoise = PayloadCompressor(codec: .lz4)
        let noise = randomBytes(seed: 3, count: 50_000)
        #expect(noise.withUnsafeBytes { forNoise.encode($0) } == nil)
        // Once the probe found nothing to gain, later chunks are not even tried.
        #expect(text.withUnsafeBytes { forNoise.encode($0) } == nil)

        var forTiny = PayloadCompressor()
        let tiny = sampleBytes(1000)
        #expect(tiny.withUnsafeBytes { forTiny.encode($0) } == nil, "a 1 KB payload is not worth a codec")

        var never = PayloadCompressor(mode: .never)
        #expect(text.withUnsafeBytes { never.encode($0) } == nil)
    }
}

/// Deterministic noise (SplitMix64), incompressible for every codec.
func randomBytes(seed: UInt64, count: Int) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt8(truncatingIfNeeded: z ^ (z >> 31))
    }
}
