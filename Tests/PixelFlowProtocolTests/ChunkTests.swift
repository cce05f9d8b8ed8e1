import NIOCore
import PixelFlowCompression
import Testing

@testable import PixelFlowProtocol

@Suite("Chunks")
struct ChunkTests {
    @Test("the compressed golden chunks decode to their 64 bytes", arguments: ["40-chunk-zstd", "40-chunk-lz4"])
    func goldenChunksDecode(name: String) throws {
        let frame = try #require(GoldenFrames.frames.first { $0.name == name }).frame
        guard case .chunk(let chunk) = frame.message else {
            Issue.record("\(name) is not a chunk")
            return
        }
        #expect(try chunk.decoded() == ByteBuffer(bytes: [UInt8](repeating: 0x41, count: 64)))
    }

    @Test("a payload split into chunks with the compressor reassembles exactly")
    func splitAndJoin() throws {
        let text = ByteBuffer(string: String(repeating: "pixelflow variant bytes ", count: 20_000))
        var compressor = PayloadCompressor()
        var joined = ByteBuffer()
        var wireBytes = 0
        var offset = 0
        let size = 64 * 1024
        while offset < text.readableBytes {
            let piece = text.getSlice(at: offset, length: min(size, text.readableBytes - offset))!
            offset += piece.readableBytes
            let chunk = Chunk.encode(piece, isLast: offset == text.readableBytes, compressor: &compressor)
            #expect(chunk.codec == .zstd)
            wireBytes += chunk.data.readableBytes
            var decoder = FrameDecoder(from: [.client], expectingPreface: false)
            var encoded = Frame(stream: 1, .chunk(chunk)).bytes
            guard case .frame(let decoded) = try decoder.decodeElement(&encoded),
                case .chunk(let received) = decoded.message
            else {
                Issue.record("chunk did not decode")
                return
            }
            var bytes = try received.decoded()
            joined.writeBuffer(&bytes)
            #expect(received.isLast == (offset == text.readableBytes))
        }
        #expect(joined == text)
        #expect(wireBytes < text.readableBytes / 10)
    }

    @Test("a chunk whose data does not decode to its declared size is a compression error")
    func lyingChunk() throws {
        let compressed = try [UInt8](repeating: 1, count: 1000).withUnsafeBytes { try Zstd.compress($0) }
        let chunk = Chunk(encoded: ByteBuffer(bytes: compressed), codec: .zstd, decodedSize: 10, isLast: true)
        let error = try #require(throws: ProtocolError.self) { try chunk.decoded() }
        #expect(error.code == .compressionError)
    }
}
