import NIOCore
import Testing

@testable import PixelFlowProtocol

@Suite("Wire transcripts (pfctl decode)")
struct WireTranscriptTests {
    @Test("a capture with a preface and frames decodes whole")
    func wholeCapture() {
        var bytes = ByteBuffer()
        Preface.supported.write(to: &bytes)
        for (_, frame) in GoldenFrames.frames { frame.write(to: &bytes) }
        let transcript = WireTranscript(bytes: Array(bytes.readableBytesView))
        #expect(transcript.elements == [.preface(.supported)] + GoldenFrames.frames.map { .frame($0.frame) })
        #expect(transcript.error == nil && transcript.trailingBytes == 0)
    }

    @Test("a malformed frame stops the transcript with its error, after the good ones")
    func malformedCapture() {
        var bytes = Array(Frame(.ping(Ping(opaque: 9))).bytes.readableBytesView)
        bytes += [0, 0, 0, 0, 0x7F, 0, 0, 0, 0, 0, 0, 0]
        let transcript = WireTranscript(bytes: bytes)
        #expect(transcript.elements == [.frame(Frame(.ping(Ping(opaque: 9))))])
        #expect(transcript.error?.code == .unknownFrameType)
    }

    @Test("a capture cut inside a frame reports the bytes left over")
    func truncatedCapture() {
        let bytes = Array(Frame(.ping(Ping(opaque: 9))).bytes.readableBytesView)
        let transcript = WireTranscript(bytes: Array(bytes.dropLast(3)))
        #expect(transcript.elements.isEmpty && transcript.error == nil)
        #expect(transcript.trailingBytes == bytes.count - 3)
    }
}
