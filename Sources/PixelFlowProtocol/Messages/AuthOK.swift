import NIOCore

/// AUTH_OK (coordinator → peer, stream 0): the coordinator's own proof, and the limits the peer must respect.
/// `server_proof [32] · max_control_payload u32 · max_chunk_data u32 · max_source_bytes u64 ·
/// max_variant_bytes u64 · max_variants u16 · max_in_flight u16 · heartbeat_interval_ms u32 · lease_ms u32`.
public struct AuthOK: WirePayload {
    public static let frameType = FrameType.authOK

    public var serverProof: [UInt8]
    public var limits: ProtocolLimits
    /// How often a worker sends HEARTBEAT; 0 on client connections.
    public var heartbeatIntervalMilliseconds: UInt32
    /// How long a lease lasts without a heartbeat renewing it; 0 on client connections.
    public var leaseMilliseconds: UInt32

    public init(
        serverProof: [UInt8], limits: ProtocolLimits, heartbeatIntervalMilliseconds: UInt32, leaseMilliseconds: UInt32
    ) {
        self.serverProof = serverProof
        self.limits = limits
        self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
        self.leaseMilliseconds = leaseMilliseconds
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        serverProof = try buffer.readFixedBytes(HandshakeProof.size, "server_proof")
        var limits = ProtocolLimits()
        limits.maxControlPayload = try buffer.readField(UInt32.self, "max_control_payload")
        limits.maxChunkData = try buffer.readField(UInt32.self, "max_chunk_data")
        limits.maxSourceBytes = try buffer.readField(UInt64.self, "max_source_bytes")
        limits.maxVariantBytes = try buffer.readField(UInt64.self, "max_variant_bytes")
        limits.maxVariants = try buffer.readField(UInt16.self, "max_variants")
        limits.maxInFlight = try buffer.readField(UInt16.self, "max_in_flight")
        self.limits = limits
        heartbeatIntervalMilliseconds = try buffer.readField(UInt32.self, "heartbeat_interval_ms")
        leaseMilliseconds = try buffer.readField(UInt32.self, "lease_ms")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeBytes(serverProof)
        buffer.writeInteger(limits.maxControlPayload)
        buffer.writeInteger(limits.maxChunkData)
        buffer.writeInteger(limits.maxSourceBytes)
        buffer.writeInteger(limits.maxVariantBytes)
        buffer.writeInteger(limits.maxVariants)
        buffer.writeInteger(limits.maxInFlight)
        buffer.writeInteger(heartbeatIntervalMilliseconds)
        buffer.writeInteger(leaseMilliseconds)
    }
}
