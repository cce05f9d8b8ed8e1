import CVipsShim
import Foundation
import PixelFlowPipeline
import Testing

@testable import PixelFlowImaging

extension ImagingTests {
    /// Every hostile input fails with its own error code, before (or instead of) a full decode, never a crash.
    @Suite struct HostileInputTests {
        static let smallPNG = Fixtures.encode(Fixtures.noise(width: 64, height: 48), as: .png)
        static let photoJPEG = Fixtures.encode(Fixtures.noise(width: 256, height: 256), as: .jpeg)

        @Test func zeroBytes() async {
            #expect(await failureCode(sharedEngine, []) == .undecodableImage)
        }

        @Test func truncatedJPEG() async {
            let truncated = Array(Self.photoJPEG.prefix(Self.photoJPEG.count * 6 / 10))
            #expect(await failureCode(sharedEngine, truncated) == .undecodableImage)
        }

        @Test func jpegSignatureFollowedByGarbage() async {
            var state: UInt32 = 7
            let garbage = (0..<4096).map { _ -> UInt8 in
                state = state &* 1_103_515_245 &+ 12345
                return UInt8(truncatingIfNeeded: state >> 16)
            }
            #expect(await failureCode(sharedEngine, [0xFF, 0xD8, 0xFF, 0xE0] + garbage) == .undecodableImage)
        }

        @Test func pngWithCorruptPixelData() async throws {
            var corrupt = Self.smallPNG
            let idat = try #require(PNGBytes.offset(of: "IDAT", in: corrupt))
            for index in idat + 8..<idat + 40 { corrupt[index] ^= 0x5A }
            #expect(await failureCode(sharedEngine, corrupt) == .undecodableImage)
        }

        @Test func plainText() async {
            #expect(await failureCode(sharedEngine, Array("hello, this is not an image\n".utf8)) == .unsupportedFormat)
        }

        @Test func svgIsRefused() async {
            let svg =
                #"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="red"/></svg>"#
            #expect(await failureCode(sharedEngine, Array(svg.utf8)) == .unsupportedFormat)
        }

        @Test func pdfIsRefused() async {
            let pdf =
                "%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
            #expect(await failureCode(sharedEngine, Array(pdf.utf8)) == .unsupportedFormat)
        }

        @Test func ppmIsRefused() async {
            let ppm = Array("P6\n2 2\n255\n".utf8) + [UInt8](repeating: 200, count: 12)
            #expect(await failureCode(sharedEngine, ppm) == .unsupportedFormat)
        }

        @Test func pixelBombIsRejectedFromItsHeader() async {
            let bomb = PNGBytes.declaring(width: 65535, height: 65535)
            #expect(bomb.count < 100)
            // That nothing is allocated for it is checked in LeakTests, in a process of its own.
            #expect(await failureCode(sharedEngine, bomb) == .imageTooLarge)
        }

        @Test func pixelLimitIsConfigurable() async {
            let engine = ImagingEngine(threads: 1, limits: ImagingLimits(maxPixels: 1000))
            #expect(await failureCode(engine, Self.smallPNG) == .imageTooLarge)
            #expect(
                await failureCode(ImagingEngine(threads: 1, limits: ImagingLimits(maxSide: 50)), Self.smallPNG)
                    == .imageTooLarge)
        }

        @Test func sourceByteLimit() async {
            let engine = ImagingEngine(threads: 1, limits: ImagingLimits(maxSourceBytes: 100))
            #expect(await failureCode(engine, Self.smallPNG) == .sourceTooLarge)
        }

        @Test func tooManyFrames() async {
            let engine = ImagingEngine(threads: 1, limits: ImagingLimits(maxFrames: 3))
            #expect(await failureCode(engine, AnimatedGIF.make(frames: 5)) == .tooManyFrames)
            #expect(await failureCode(engine, AnimatedGIF.make(frames: 3)) == nil)
        }

        @Test func cropOutsideTheSource() async {
            #expect(
                await failureCode(sharedEngine, Self.smallPNG, variant("c:crop:-:png:crop=64,0,10,10"))
                    == .invalidPipeline)
        }

        @Test func jobTimeLimit() async {
            let engine = ImagingEngine(threads: 1, limits: ImagingLimits(jobTimeout: .milliseconds(50)))
            let source = Fixtures.encode(Fixtures.noise(width: 800, height: 600), as: .png)
            let pipeline = try! PipelineDecoder.decode(compact: (0..<8).map { "b\($0):resize:800:png:blur=60" })
            let start = ContinuousClock.now
            #expect(await failureCode(engine, source, pipeline) == .timeout)
            #expect(ContinuousClock.now - start < .seconds(5))
        }

        @Test func cancellingTheCallerStopsTheJob() async throws {
            let source = Fixtures.encode(Fixtures.noise(width: 800, height: 600), as: .png)
            let pipeline = try PipelineDecoder.decode(compact: (0..<8).map { "b\($0):resize:800:png:blur=60" })
            let task = Task { try await sharedEngine.process(source: source, pipeline: pipeline) }
            try await Task.sleep(for: .milliseconds(50))
            task.cancel()
            await #expect { try await task.value } throws: { ($0 as? ImagingError)?.code == .cancelled }
        }
    }
}

/// Hand-made PNG chunks, for headers no encoder would write.
enum PNGBytes {
    static func declaring(width: UInt32, height: UInt32) -> [UInt8] {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        let ihdr = bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0]
        // An empty zlib stream: enough for the header to parse.
        let idat: [UInt8] = [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]
        return signature + chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", [])
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(crc32(typeBytes + data))
    }

    static func offset(of type: String, in png: [UInt8]) -> Int? {
        let needle = Array(type.utf8)
        return (0..<(png.count - 4)).first { Array(png[$0..<$0 + 4]) == needle }.map { $0 - 4 }
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// A GIF whose frames are solid colours, first one red.
enum AnimatedGIF {
    static func make(frames: Int, side: Int = 16) -> [UInt8] {
        let colours = [Fixtures.red, Fixtures.green, Fixtures.blue, Fixtures.yellow]
        let strip = Fixtures.copy(
            Fixtures.image(width: side, height: side * frames) { _, y in colours[(y / side) % colours.count] })
        vips_image_set_int(strip.pointer, "page-height", Int32(side))
        return Fixtures.encode(strip, as: .gif)
    }
}
