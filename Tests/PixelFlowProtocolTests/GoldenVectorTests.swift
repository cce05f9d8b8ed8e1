import Foundation
import NIOCore
import Testing

@testable import PixelFlowProtocol

@Suite("Golden vectors in proto/vectors")
struct GoldenVectorTests {
    /// The protocol version a vector belongs to: v2's own frame types, and v2 layouts of older ones (`-v2`).
    static func version(of name: String, _ frame: Frame) -> Int {
        let v2Types: Set<FrameType> = [
            .fetch, .jobsRequest, .jobList, .usageRequest, .usage, .assignObject, .variantStored,
        ]
        return name.hasSuffix("-v2") || v2Types.contains(frame.message.frameType) ? 2 : 1
    }

    @Test("every frame type has a vector")
    func everyFrameTypeIsCovered() {
        let covered = Set(GoldenFrames.frames.map(\.frame.message.frameType))
        #expect(covered == Set(FrameType.allCases))
    }

    @Test("frame vector decodes to its fields and re-encodes byte for byte", arguments: GoldenFrames.frames.map(\.name))
    func frameVector(name: String) throws {
        let expected = try #require(GoldenFrames.frames.first { $0.name == name }).frame
        let encoded = Array(expected.bytes.readableBytesView)
        if VectorFile.shouldWrite {
            let text = VectorFile.render(
                title:
                    "PixelFlow v\(Self.version(of: name, expected)) golden frame \(name): \(expected.message.frameType)",
                lines: expected.fieldLines,
                bytes: encoded, headerSize: FrameHeader.size)
            try text.write(to: VectorFile.url(name), atomically: true, encoding: .utf8)
        }
        let file = VectorFile.parse(try String(contentsOf: VectorFile.url(name), encoding: .utf8))

        var decoder = FrameDecoder(from: Set(PeerRole.allCases), expectingPreface: false)
        var buffer = ByteBuffer(bytes: file.bytes)
        let decoded = try decoder.decodeElement(&buffer)
        #expect(decoded == .frame(expected))
        #expect(buffer.readableBytes == 0)
        #expect(file.bytes == encoded, "re-encoding differs from the vector")
        #expect(Array(file.comments.dropFirst()) == expected.fieldLines, "the vector's field description is stale")
    }

    @Test("preface vector round-trips", arguments: GoldenFrames.prefaces.map(\.name))
    func prefaceVector(name: String) throws {
        let expected = try #require(GoldenFrames.prefaces.first { $0.name == name }).preface
        var encodedBuffer = ByteBuffer()
        expected.write(to: &encodedBuffer)
        let encoded = Array(encodedBuffer.readableBytesView)
        let lines = [
            "magic: \"PXFL\"", "min_version: \(expected.minVersion)", "max_version: \(expected.maxVersion)",
            "reserved: 0",
        ]
        if VectorFile.shouldWrite {
            let text = VectorFile.render(
                title: "PixelFlow v1 golden preface \(name)", lines: lines, bytes: encoded, headerSize: Preface.size)
            try text.write(to: VectorFile.url(name), atomically: true, encoding: .utf8)
        }
        let file = VectorFile.parse(try String(contentsOf: VectorFile.url(name), encoding: .utf8))
        var buffer = ByteBuffer(bytes: file.bytes)
        #expect(try Preface.read(from: &buffer) == expected)
        #expect(file.bytes == encoded)
        #expect(Array(file.comments.dropFirst()) == lines)
    }
}
