import NIOCore

/// Decodes a captured byte stream (one direction of a connection) into its elements, for inspection tools.
public struct WireTranscript: Sendable {
    public var elements: [WireElement]
    /// Why decoding stopped early, if it did.
    public var error: ProtocolError?
    /// Bytes left at the end that do not make a whole frame.
    public var trailingBytes: Int

    public init(bytes: [UInt8], limits: ProtocolLimits = .default) {
        var buffer = ByteBuffer(bytes: bytes)
        let startsWithPreface = bytes.starts(with: Preface.magic)
        var decoder = FrameDecoder(limits: limits, from: Set(PeerRole.allCases), expectingPreface: startsWithPreface)
        var elements: [WireElement] = []
        var error: ProtocolError?
        do {
            while let element = try decoder.decodeElement(&buffer) { elements.append(element) }
        } catch let failure {
            error = failure
        }
        self.elements = elements
        self.error = error
        self.trailingBytes = buffer.readableBytes
    }
}
