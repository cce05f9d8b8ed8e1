import NIOCore
import PixelFlowCompression

/// CHUNK (any direction, on the stream of the payload it belongs to): a bounded piece of a source image or
/// an encoded variant. Flags: bit 0 END (last chunk of the payload), bits 1–2 the codec (0 none, 1 zstd, 2 lz4).
/// Payload: the bytes as they are (codec none), or `decoded_size u32 · compressed bytes`.
public struct Chunk: Sendable, Hashable {
    /// Bytes in front of compressed data: its decoded size.
    public static let compressedPrefixSize = 4
    static let endFlag: UInt8 = 0x01
    static let codecMask: UInt8 = 0x06
    static let knownFlags: UInt8 = endFlag | codecMask

    public var isLast: Bool
    public var codec: PayloadCodec
    /// Size of the data once decoded (equal to `data.readableBytes` for codec none).
    public var decodedSize: Int
    /// The data as it travels: compressed unless the codec is none.
    public var data: ByteBuffer

    /// A chunk carrying `data` as it is.
    public init(raw data: ByteBuffer, isLast: Bool) {
        self.isLast = isLast
        self.codec = .none
        self.decodedSize = data.readableBytes
        self.data = data
    }

    /// A chunk carrying `data` already encoded with `codec`, which decodes to `decodedSize` bytes.
    public init(encoded data: ByteBuffer, codec: PayloadCodec, decodedSize: Int, isLast: Bool) {
        self.isLast = isLast
        self.codec = codec
        self.decodedSize = decodedSize
        self.data = data
    }

    var flags: UInt8 { (isLast ? Chunk.endFlag : 0) | (codec.rawValue << 1) }

    init(flags: UInt8, payload: inout ByteBuffer, maxDecodedSize: Int) throws(ProtocolError) {
        guard flags & ~Chunk.knownFlags == 0 else {
            throw ProtocolError.malformed("CHUNK flags 0x\(String(flags, radix: 16)) set reserved bits")
        }
        guard let codec = PayloadCodec(rawValue: (flags & Chunk.codecMask) >> 1) else {
            throw ProtocolError(.compressionError, "CHUNK codec \((flags & Chunk.codecMask) >> 1) is unknown")
        }
        self.isLast = flags & Chunk.endFlag != 0
        self.codec = codec
        if codec == .none {
            decodedSize = payload.readableBytes
        } else {
            decodedSize = Int(try payload.readField(UInt32.self, "decoded_size"))
        }
        guard decodedSize <= maxDecodedSize else {
            throw ProtocolError(
                .frameTooLarge, "CHUNK declares \(decodedSize) decoded bytes, limit is \(maxDecodedSize)")
        }
        data = payload.readSlice(length: payload.readableBytes)!
    }

    func write(to buffer: inout ByteBuffer) {
        if codec != .none { buffer.writeInteger(UInt32(decodedSize)) }
        buffer.writeImmutableBuffer(data)
    }

    /// The chunk's bytes, decoded. Never produces more than `decodedSize`, which the decoder already held to the limit.
    public func decoded() throws(ProtocolError) -> ByteBuffer {
        if codec == .none { return data }
        let result: Result<[UInt8], CompressionError> = data.withUnsafeReadableBytes { bytes in
            Result { () throws(CompressionError) in
                try codec.decompress(bytes, declaredSize: decodedSize, limit: decodedSize)
            }
        }
        switch result {
        case .success(let bytes): return ByteBuffer(bytes: bytes)
        case .failure(let error): throw ProtocolError(.compressionError, "CHUNK \(codec): \(error)")
        }
    }

    /// Encodes the next piece of a payload, letting `compressor` decide whether compressing it pays.
    public static func encode(_ bytes: ByteBuffer, isLast: Bool, compressor: inout PayloadCompressor) -> Chunk {
        guard let encoded = bytes.withUnsafeReadableBytes({ compressor.encode($0) }) else {
            return Chunk(raw: bytes, isLast: isLast)
        }
        return Chunk(
            encoded: ByteBuffer(bytes: encoded.bytes), codec: encoded.codec, decodedSize: bytes.readableBytes,
            isLast: isLast)
    }
}
