import NIOCore

/// Reads the preface, then frames. Every check that can be made from the 12-byte header (type, sender, stream,
/// length against the limit for that type) is made before a single payload byte is buffered; a partial frame
/// leaves the buffer untouched so the next read resumes from its start.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = WireElement

    public private(set) var limits: ProtocolLimits
    /// The roles the other side may have: `[.coordinator]` on a client or worker, `[.client, .worker]` on the coordinator.
    public var senders: Set<PeerRole> { Set(PeerRole.allCases.filter { senderBits & $0.bit != 0 }) }
    /// `senders` as bits, checked against every frame header.
    private let senderBits: UInt8
    private var expectingPreface: Bool
    /// When set, the frame limits announced in AUTH_OK replace `limits`, each capped at this ceiling's: the
    /// coordinator's limits bind both directions (PROTOCOL.md §6.1), so a worker must accept frames up to them.
    private let announcedLimitsCeiling: ProtocolLimits?
    /// Told when a frame starts arriving and when it is complete, so the connection can time out a peer that
    /// sends half a frame and stops.
    private let partialFrameClock: PartialFrameClock?

    public init(
        limits: ProtocolLimits = .default, from senders: Set<PeerRole>, expectingPreface: Bool = true,
        adoptingAnnouncedLimitsUpTo ceiling: ProtocolLimits? = nil, partialFrameClock: PartialFrameClock? = nil
    ) {
        self.limits = limits
        self.senderBits = senders.reduce(0) { $0 | $1.bit }
        self.expectingPreface = expectingPreface
        self.announcedLimitsCeiling = ceiling
        self.partialFrameClock = partialFrameClock
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> WireElement? {
        let element = try decodeElement(&buffer)
        if let partialFrameClock {
            if element != nil || buffer.readableBytes == 0 {
                partialFrameClock.frameCompleted()
            } else {
                partialFrameClock.bytesPending()
            }
        }
        if let ceiling = announcedLimitsCeiling, case .frame(let frame)? = element,
            case .authOK(let authOK) = frame.message
        {
            limits.maxControlPayload = min(authOK.limits.maxControlPayload, ceiling.maxControlPayload)
            limits.maxChunkData = min(authOK.limits.maxChunkData, ceiling.maxChunkData)
        }
        return element
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> WireElement? {
        if let element = try decode(buffer: &buffer) { return element }
        if seenEOF && buffer.readableBytes > 0 {
            throw ProtocolError.malformed("connection closed inside a frame (\(buffer.readableBytes) bytes pending)")
        }
        return nil
    }

    mutating func decodeElement(_ buffer: inout ByteBuffer) throws(ProtocolError) -> WireElement? {
        if expectingPreface {
            guard let preface = try Preface.read(from: &buffer) else { return nil }
            expectingPreface = false
            return .preface(preface)
        }
        guard let header = try FrameHeader.peek(in: buffer) else { return nil }
        guard let type = FrameType(rawValue: header.type) else {
            throw ProtocolError(.unknownFrameType, "frame type 0x\(String(header.type, radix: 16)) is not part of v1")
        }
        try Frame.validate(type: type, streamID: header.streamID, from: senderBits)
        let limit = limits.maxPayload(for: type)
        guard header.length <= limit else {
            throw ProtocolError(
                .frameTooLarge, "\(type) payload of \(header.length) bytes exceeds the limit of \(limit)")
        }
        guard buffer.readableBytes >= FrameHeader.size + Int(header.length) else { return nil }
        buffer.moveReaderIndex(forwardBy: FrameHeader.size)
        var payload = buffer.readSlice(length: Int(header.length))!
        let message = try Message.decode(type: type, flags: header.flags, payload: &payload, limits: limits)
        return .frame(Frame(stream: header.streamID, message))
    }
}

/// Writes the preface and frames.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = WireElement

    public init() {}

    public func encode(data: WireElement, out: inout ByteBuffer) {
        data.write(to: &out)
    }
}
