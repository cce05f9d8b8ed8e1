/// Every size limit of the protocol, with its default (proto/PROTOCOL.md §8). A receiver enforces its own
/// limits; the server states its limits in AUTH_OK so a well-behaved peer never exceeds them.
public struct ProtocolLimits: Sendable, Hashable {
    /// Largest payload of any frame other than CHUNK (config `limits.max_control_frame_bytes`).
    public var maxControlPayload: UInt32 = 64 * 1024
    /// Largest CHUNK data, both on the wire and decompressed (config `limits.max_chunk_bytes`).
    public var maxChunkData: UInt32 = 256 * 1024
    /// Largest source image of one job (config `limits.max_source_bytes`).
    public var maxSourceBytes: UInt64 = 64 * 1024 * 1024
    /// Largest encoded variant (config `limits.max_variant_bytes`).
    public var maxVariantBytes: UInt64 = 64 * 1024 * 1024
    /// Most variants in one pipeline (config `limits.max_variants`).
    public var maxVariants: UInt16 = 16
    /// Most requests in flight on one client connection (config `limits.max_in_flight`).
    public var maxInFlight: UInt16 = 256
    /// Time allowed from accepting a connection to AUTH_OK (config `limits.handshake_timeout_ms`).
    public var handshakeTimeoutMilliseconds: UInt32 = 5_000

    public static let `default` = ProtocolLimits()

    public init() {}

    /// The largest frame payload length the decoder accepts for a frame type, checked before buffering the body.
    public func maxPayload(for type: FrameType) -> Int {
        switch type {
        case .chunk: Int(maxChunkData) + Chunk.compressedPrefixSize
        default: Int(maxControlPayload)
        }
    }
}
