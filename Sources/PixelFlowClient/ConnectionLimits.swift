import PixelFlowProtocol

/// The size limits of a connection (proto/PROTOCOL.md §8): the ones the coordinator states when it accepts the
/// client (``PixelFlowClient/limits``), and the largest frames the client accepts
/// (``PixelFlowClient/Configuration/receiveLimits``). The defaults are the protocol's.
public struct ConnectionLimits: Sendable, Hashable {
    /// Largest payload of a frame other than a data chunk, in bytes; bounds the pipeline JSON of a submission.
    public var maxControlPayload: Int
    /// Largest data chunk, in bytes: sources are uploaded and variants received in pieces of at most this size.
    public var maxChunkData: Int
    /// Largest source image of one job, in bytes.
    public var maxSourceBytes: Int
    /// Largest encoded variant, in bytes.
    public var maxVariantBytes: Int
    /// Most variants in one pipeline.
    public var maxVariants: Int
    /// Most requests open at once on one connection; the client makes further requests wait for a slot.
    public var maxInFlight: Int
    /// Time the coordinator allows from accepting a connection to the end of the handshake.
    public var handshakeTimeoutMilliseconds: Int

    /// The protocol's default limits.
    public static let `default` = ConnectionLimits()

    /// The protocol's default limits, to adjust field by field.
    public init() { self.init(wire: .default) }

    init(wire limits: ProtocolLimits) {
        maxControlPayload = Int(limits.maxControlPayload)
        maxChunkData = Int(limits.maxChunkData)
        maxSourceBytes = Int(clamping: limits.maxSourceBytes)
        maxVariantBytes = Int(clamping: limits.maxVariantBytes)
        maxVariants = Int(limits.maxVariants)
        maxInFlight = Int(limits.maxInFlight)
        handshakeTimeoutMilliseconds = Int(limits.handshakeTimeoutMilliseconds)
    }

    /// The same limits as the protocol module spells them, clamped to its field widths.
    var wire: ProtocolLimits {
        var limits = ProtocolLimits()
        limits.maxControlPayload = UInt32(clamping: maxControlPayload)
        limits.maxChunkData = UInt32(clamping: maxChunkData)
        limits.maxSourceBytes = UInt64(clamping: maxSourceBytes)
        limits.maxVariantBytes = UInt64(clamping: maxVariantBytes)
        limits.maxVariants = UInt16(clamping: maxVariants)
        limits.maxInFlight = UInt16(clamping: maxInFlight)
        limits.handshakeTimeoutMilliseconds = UInt32(clamping: handshakeTimeoutMilliseconds)
        return limits
    }
}
