/// Decides, chunk by chunk, whether compressing a payload pays, and compresses the chunks that shrink.
///
/// Already-compressed image formats (PNG, WebP, GIF, HEIF/AVIF) are recognised by their first bytes and never
/// touched, nor are payloads whose first chunk is under `minimumSize` (a codec's setup costs more than it saves). Anything else (JPEG, TIFF, raw bytes) is probed on its first chunk: if the codec saves less than
/// `minimumSaving`, the rest of the payload travels as is, so the CPU is spent only where it pays.
public struct PayloadCompressor: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Sniff, probe the first chunk, keep compressing only while it pays.
        case auto
        /// Always use the codec (still sends a chunk raw when it would grow).
        case always
        /// Never compress.
        case never
    }

    public let codec: PayloadCodec
    public let mode: Mode
    public let minimumSaving: Double
    public let level: Int32
    public let minimumSize: Int
    private var decided: Bool = false
    private var compressing: Bool = false

    public init(
        codec: PayloadCodec = .zstd, mode: Mode = .auto, minimumSaving: Double = 0.05, level: Int32 = 1,
        minimumSize: Int = 4096
    ) {
        self.codec = codec
        self.mode = codec == .none ? .never : mode
        self.minimumSaving = minimumSaving
        self.level = level
        self.minimumSize = minimumSize
    }

    /// A compressed chunk: the codec used and its bytes.
    public struct EncodedChunk: Sendable, Hashable {
        public var codec: PayloadCodec
        public var bytes: [UInt8]
    }

    /// Compresses the next chunk of the payload if that pays; nil means "send it as it is" (no copy is made).
    /// Chunks must be passed in order.
    public mutating func encode(_ chunk: UnsafeRawBufferPointer) -> EncodedChunk? {
        if !decided {
            decided = true
            switch mode {
            case .never: compressing = false
            case .always: compressing = true
            case .auto: compressing = chunk.count >= minimumSize && !ContentSniffer.isAlreadyCompressed(chunk)
            }
            guard compressing, let compressed = try? codec.compress(chunk, level: level) else {
                compressing = false
                return nil
            }
            let saving = 1 - Double(compressed.count) / Double(max(chunk.count, 1))
            if mode == .auto && saving < minimumSaving {
                compressing = false
                return nil
            }
            return compressed.count < chunk.count ? EncodedChunk(codec: codec, bytes: compressed) : nil
        }
        guard compressing, let compressed = try? codec.compress(chunk, level: level), compressed.count < chunk.count
        else {
            return nil
        }
        return EncodedChunk(codec: codec, bytes: compressed)
    }
}

/// Recognises payloads whose bytes are already entropy-coded, from their first bytes.
public enum ContentSniffer {
    public static func isAlreadyCompressed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        func starts(with prefix: [UInt8], at offset: Int = 0) -> Bool {
            guard bytes.count >= offset + prefix.count else { return false }
            for (index, byte) in prefix.enumerated() where bytes[offset + index] != byte { return false }
            return true
        }
        if starts(with: [0x89, 0x50, 0x4E, 0x47]) { return true }  // PNG (deflate)
        // RIFF…WEBP
        if starts(with: [0x52, 0x49, 0x46, 0x46]) && starts(with: [0x57, 0x45, 0x42, 0x50], at: 8) { return true }
        if starts(with: [0x47, 0x49, 0x46, 0x38]) { return true }  // GIF8 (LZW)
        if starts(with: [0x66, 0x74, 0x79, 0x70], at: 4) { return true }  // ftyp: HEIF, AVIF (ISO BMFF)
        if starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return true }  // zstd
        if starts(with: [0x1F, 0x8B]) { return true }  // gzip
        return false
    }
}
