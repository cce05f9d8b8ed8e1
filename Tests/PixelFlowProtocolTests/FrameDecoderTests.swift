import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import PixelFlowProtocol

@Suite("Frame decoder")
struct FrameDecoderTests {
    static let anySender = Set(PeerRole.allCases)

    private func decodeAll(
        _ bytes: [UInt8], limits: ProtocolLimits = .default, from senders: Set<PeerRole> = anySender
    ) throws(ProtocolError) -> [WireElement] {
        var decoder = FrameDecoder(limits: limits, from: senders, expectingPreface: false)
        var buffer = ByteBuffer(bytes: bytes)
        var elements: [WireElement] = []
        while let element = try decoder.decodeElement(&buffer) { elements.append(element) }
        return elements
    }

    private func header(length: UInt32, type: UInt8, flags: UInt8 = 0, stream: UInt32 = 0) -> [UInt8] {
        var buffer = ByteBuffer()
        FrameHeader(length: length, type: type, flags: flags, streamID: stream).write(to: &buffer)
        return Array(buffer.readableBytesView)
    }

    @Test("byte-by-byte delivery decodes the same as whole delivery")
    func byteByByte() throws {
        // NIO's verifier replays the input ten times on one decoder, so it gets frames only…
        var frames = ByteBuffer()
        for (_, frame) in GoldenFrames.frames { frame.write(to: &frames) }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(frames, GoldenFrames.frames.map { .frame($0.frame) })],
            decoderFactory: { FrameDecoder(from: Self.anySender, expectingPreface: false) })

        // …and the preface followed by every frame is fed one byte at a time here.
        var whole = ByteBuffer()
        Preface.supported.write(to: &whole)
        whole.writeImmutableBuffer(frames)
        var decoder = FrameDecoder(from: Self.anySender)
        var pending = ByteBuffer()
        var decoded: [WireElement] = []
        for byte in whole.readableBytesView {
            pending.writeInteger(byte)
            while let element = try decoder.decodeElement(&pending) { decoded.append(element) }
        }
        #expect(decoded == [.preface(.supported)] + GoldenFrames.frames.map { .frame($0.frame) })
        #expect(pending.readableBytes == 0)
    }

    @Test("a length over the limit is refused from the header alone, before the body arrives")
    func oversizeRefusedEarly() throws {
        var limits = ProtocolLimits()
        limits.maxControlPayload = 1024
        let bytes = header(length: 1025, type: FrameType.ping.rawValue)  // no body at all
        #expect(throws: ProtocolError(.frameTooLarge, "PING payload of 1025 bytes exceeds the limit of 1024")) {
            try decodeAll(bytes, limits: limits)
        }
        let hostile = header(length: .max, type: FrameType.chunk.rawValue, stream: 1)
        let error = try #require(throws: ProtocolError.self) { try decodeAll(hostile) }
        #expect(error.code == .frameTooLarge)
    }

    @Test("a partial frame leaves the buffer untouched")
    func partialFrameRewinds() throws {
        let frame = Array(Frame(.ping(Ping(opaque: 42))).bytes.readableBytesView)
        var decoder = FrameDecoder(from: Self.anySender, expectingPreface: false)
        var buffer = ByteBuffer(bytes: frame.dropLast())
        #expect(try decoder.decodeElement(&buffer) == nil)
        #expect(buffer.readableBytes == frame.count - 1)
        buffer.writeInteger(frame.last!)
        #expect(try decoder.decodeElement(&buffer) == .frame(Frame(.ping(Ping(opaque: 42)))))
    }

    @Test(
        "malformed frames give typed errors",
        arguments: [
            ("unknown type", [0, 0, 0, 0, 0x7F, 0, 0, 0, 0, 0, 0, 0], ErrorCode.unknownFrameType),
            ("reserved header bytes", [0, 0, 0, 8, 0x04, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], .protocolError),
            (
                "flags on a control frame", [0, 0, 0, 8, 0x04, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                .protocolError
            ),
            (
                "connection frame on a stream", [0, 0, 0, 8, 0x04, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0],
                .protocolError
            ),
            (
                "stream frame on stream 0", [0, 0, 0, 8, 0x16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7],
                .protocolError
            ),
            ("leftover bytes", [0, 0, 0, 9, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xEE], .protocolError),
            ("payload too short", [0, 0, 0, 4, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], .protocolError),
            ("string longer than payload", [0, 0, 0, 4, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 9], .protocolError),
            ("invalid UTF-8", [0, 0, 0, 5, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 0xFF], .protocolError),
            (
                "bool that is not 0 or 1", [0, 0, 0, 9, 0x11, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 2],
                .protocolError
            ),
            ("unknown chunk codec", [0, 0, 0, 0, 0x40, 0x06, 0, 0, 0, 0, 0, 1], .compressionError),
            ("reserved chunk flag", [0, 0, 0, 0, 0x40, 0x80, 0, 0, 0, 0, 0, 1], .protocolError),
            (
                "role 3 in AUTH", [0, 0, 0, 0x43, 0x02, 0, 0, 0, 0, 0, 0, 0, 3] + [UInt8](repeating: 0, count: 66),
                .wrongRole
            ),
        ] as [(String, [UInt8], ErrorCode)])
    func malformed(name: String, bytes: [UInt8], code: ErrorCode) throws {
        let error = try #require(throws: ProtocolError.self, "\(name)") { try decodeAll(bytes) }
        #expect(error.code == code, "\(name): \(error)")
    }

    @Test("a frame its sender may not send is refused before its body is read")
    func wrongSender() throws {
        let submit = Array(
            Frame(stream: 1, .submit(Submit(sourceSize: 1, pipeline: ByteBuffer(string: "[]")))).bytes.readableBytesView
        )
        let error = try #require(throws: ProtocolError.self) {
            try decodeAll(Array(submit.prefix(FrameHeader.size)), from: [.coordinator])
        }
        #expect(error.code == .wrongRole)
        #expect(try decodeAll(submit, from: [.client, .worker]).count == 1)
    }

    @Test("a chunk declaring more decoded bytes than the limit is refused before decompressing")
    func chunkDeclaredSizeOverLimit() throws {
        var bytes = header(length: 8, type: FrameType.chunk.rawValue, flags: 0x02, stream: 1)
        bytes += [0x7F, 0xFF, 0xFF, 0xFF, 0x28, 0xB5, 0x2F, 0xFD]
        let error = try #require(throws: ProtocolError.self) { try decodeAll(bytes) }
        #expect(error.code == .frameTooLarge)
    }

    @Test("a wrong preface magic is refused as soon as its first byte arrives")
    func badPreface() throws {
        var decoder = FrameDecoder(from: Self.anySender)
        var buffer = ByteBuffer(bytes: Array("GET / HTTP/1.1\r\n".utf8).prefix(1))
        #expect(throws: ProtocolError.self) { try decoder.decodeElement(&buffer) }
    }

    @Test("the connection closing inside a frame is an error, not silence")
    func eofInsideFrame() throws {
        let channel = EmbeddedChannel(
            handler: ByteToMessageHandler(FrameDecoder(from: Self.anySender, expectingPreface: false)))
        let frame = Frame(.ping(Ping(opaque: 1))).bytes
        try channel.writeInbound(frame.getSlice(at: 0, length: 10)!)
        #expect(throws: ProtocolError.self) { try channel.finish() }
    }

    @Test("the batching encoder writes one buffer per flush, holding every frame written since the last")
    func batchingEncoder() throws {
        let channel = EmbeddedChannel(handler: BatchingFrameEncoder())
        let frames = GoldenFrames.frames.prefix(5).map(\.frame)
        var expected = ByteBuffer()
        for frame in frames {
            frame.write(to: &expected)
            channel.write(WireElement.frame(frame), promise: nil)
        }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "nothing before the flush")
        channel.flush()
        #expect(try channel.readOutbound(as: ByteBuffer.self) == expected)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.write(WireElement.preface(.supported), promise: promise)
        channel.flush()
        #expect(throws: Never.self) { try promise.futureResult.wait() }
        var preface = ByteBuffer()
        Preface.supported.write(to: &preface)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == preface)
        #expect(try channel.finish().isClean)
    }

    @Test("large chunk data is written as its own buffer, and the bytes are the same as a plain encoding")
    func batchingEncoderLargeChunk() throws {
        let channel = EmbeddedChannel(handler: BatchingFrameEncoder())
        let big = Frame(stream: 1, .chunk(Chunk(raw: ByteBuffer(repeating: 7, count: 100_000), isLast: true)))
        let small = Frame(stream: 1, .jobDone(JobDone(jobID: 1, variants: 1, attempts: 1, elapsedMilliseconds: 1)))
        channel.write(WireElement.frame(small), promise: nil)
        channel.write(WireElement.frame(big), promise: nil)
        channel.write(WireElement.frame(small), promise: nil)
        channel.flush()
        var written = ByteBuffer()
        var writes = 0
        while var part = try channel.readOutbound(as: ByteBuffer.self) {
            written.writeBuffer(&part)
            writes += 1
        }
        var expected = ByteBuffer()
        for frame in [small, big, small] { frame.write(to: &expected) }
        #expect(written == expected)
        #expect(writes == 3, "head batch, the data itself, the tail batch")
        _ = try channel.finish()
    }

    @Test("encoder and decoder agree through a channel pipeline")
    func pipelineRoundTrip() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(from: Self.anySender)))
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
        try channel.writeOutbound(WireElement.preface(.supported))
        for (_, frame) in GoldenFrames.frames { try channel.writeOutbound(WireElement.frame(frame)) }
        while let bytes = try channel.readOutbound(as: ByteBuffer.self) { try channel.writeInbound(bytes) }
        #expect(try channel.readInbound(as: WireElement.self) == .preface(.supported))
        for (_, frame) in GoldenFrames.frames {
            #expect(try channel.readInbound(as: WireElement.self) == .frame(frame))
        }
        #expect(try channel.finish().isClean)
    }
}
