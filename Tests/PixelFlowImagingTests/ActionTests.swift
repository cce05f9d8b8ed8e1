import PixelFlowPipeline
import Testing

@testable import PixelFlowImaging

extension ImagingTests {
    /// cover, contain, crop and the post-operations, checked on pixels.
    @Suite struct ActionTests {
        static let quadrants = Fixtures.encode(Fixtures.quadrants(width: 200, height: 100), as: .png)

        @Test func coverFillsTheBoxExactly() async throws {
            let pipeline = try PipelineDecoder.decode(compact: [
                "centre:cover:50x50:png", "attention:cover:50x50:png:gravity=attention",
                "entropy:cover:50x50:png:gravity=entropy",
            ])
            let (report, variants) = try await run(sharedEngine, Self.quadrants, pipeline)
            #expect(report.variants.allSatisfy { $0.width == 50 && $0.height == 50 })
            // Centre gravity keeps the middle: red|green on top, blue|yellow below.
            let centre = Fixtures.decode(try #require(variants["centre"]).data)
            #expect(
                close(Fixtures.pixel(centre, 5, 5), Fixtures.red)
                    && close(Fixtures.pixel(centre, 45, 45), Fixtures.yellow))
        }

        @Test func containPadsWithTheBackground() async throws {
            let (report, variants) = try await run(
                sharedEngine, Self.quadrants, variant("box:contain:100x100:png:background=#0000ff"))
            #expect(report.variants[0].width == 100 && report.variants[0].height == 100)
            let output = Fixtures.decode(try #require(variants["box"]).data)
            #expect(close(Fixtures.pixel(output, 50, 5), (0, 0, 255)), "padding above")
            #expect(close(Fixtures.pixel(output, 5, 30), Fixtures.red), "image in the middle band")
            #expect(close(Fixtures.pixel(output, 95, 70), Fixtures.yellow))
        }

        @Test func cropThenResizeUsesSourceCoordinates() async throws {
            // The crop is the yellow quadrant; the decode is shrunk 4× first, the crop must follow.
            let (report, variants) = try await run(
                sharedEngine, Self.quadrants, variant("c:crop:25:png:crop=100,50,100,50"))
            #expect(report.decodedWidth == 50, "decoded at a quarter of the source")
            #expect(report.variants[0].width == 25 && report.variants[0].height == 13)
            let output = Fixtures.decode(try #require(variants["c"]).data)
            #expect(
                close(Fixtures.pixel(output, 2, 2), Fixtures.yellow)
                    && close(Fixtures.pixel(output, 22, 10), Fixtures.yellow))
        }

        @Test func rotateFlipFlop() async throws {
            let pipeline = try PipelineDecoder.decode(compact: [
                "r90:resize:200:png:rotate=90", "flip:resize:200:png:flip", "flop:resize:200:png:flop",
            ])
            let (_, variants) = try await run(sharedEngine, Self.quadrants, pipeline)
            let turned = Fixtures.decode(try #require(variants["r90"]).data)
            #expect(turned.width == 100 && turned.height == 200)
            // Clockwise: the top-left (red) goes to the top-right.
            #expect(close(Fixtures.pixel(turned, 95, 5), Fixtures.red))
            let flipped = Fixtures.decode(try #require(variants["flip"]).data)
            #expect(close(Fixtures.pixel(flipped, 5, 95), Fixtures.red))
            let flopped = Fixtures.decode(try #require(variants["flop"]).data)
            #expect(close(Fixtures.pixel(flopped, 195, 5), Fixtures.red))
        }

        @Test func blurSoftensTheEdgeAndSharpenKeepsSize() async throws {
            let pipeline = try PipelineDecoder.decode(compact: [
                "soft:resize:200:png:blur=4", "crisp:resize:200:png:sharpen",
            ])
            let (report, variants) = try await run(sharedEngine, Self.quadrants, pipeline)
            let soft = Fixtures.decode(try #require(variants["soft"]).data)
            // At the red/green boundary a blur mixes the two.
            let edge = Fixtures.pixel(soft, 99, 20)
            #expect(edge[0] > 60 && edge[0] < 200 && edge[1] > 60 && edge[1] < 190, "got \(edge)")
            #expect(report.variants[1].width == 200 && report.variants[1].height == 100)
            #expect(close(Fixtures.pixel(Fixtures.decode(try #require(variants["crisp"]).data), 40, 20), Fixtures.red))
        }
    }
}
