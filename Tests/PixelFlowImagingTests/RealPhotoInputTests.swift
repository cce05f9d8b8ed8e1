import PixelFlowPipeline
import Testing

@testable import PixelFlowImaging

extension ImagingTests {
    /// Each accepted input format decodes, and animated inputs give their first frame.
    @Suite struct RealPhotoInputTests {
        @Test(arguments: [Fixtures.Encoding.jpeg, .png, .webp, .tiff, .gif, .heic, .avif])
        func acceptedInputFormat(_ encoding: Fixtures.Encoding) async throws {
            let source = Fixtures.encode(Fixtures.quadrants(width: 96, height: 64), as: encoding, quality: 90)
            let (report, variants) = try await run(sharedEngine, source, variant("v:resize:48:png"))
            let output = Fixtures.decode(try #require(variants["v"]).data)
            #expect(report.variants[0].width == 48 && report.variants[0].height == 32)
            #expect(
                close(Fixtures.pixel(output, 4, 4), Fixtures.red, tolerance: 40),
                "\(encoding): \(Fixtures.pixel(output, 4, 4))")
            #expect(
                close(Fixtures.pixel(output, 43, 27), Fixtures.yellow, tolerance: 40),
                "\(encoding): \(Fixtures.pixel(output, 43, 27))")
        }

        @Test func animatedGIFGivesItsFirstFrame() async throws {
            let (report, variants) = try await run(
                sharedEngine, AnimatedGIF.make(frames: 4), variant("v:resize:16:png"))
            #expect(report.source.frames == 4)
            let output = Fixtures.decode(try #require(variants["v"]).data)
            #expect(output.width == 16 && output.height == 16)
            #expect(close(Fixtures.pixel(output, 8, 8), Fixtures.red, tolerance: 24))
        }
    }
}
