import PixelFlowPipeline
import Testing

@testable import PixelFlowImaging

extension ImagingTests {
    @Suite struct EngineBasicsTests {
        @Test func canonicalPipelineFromOneDecode() async throws {
            let source = Fixtures.encode(Fixtures.noise(width: 800, height: 600), as: .jpeg)
            let pipeline = try PipelineDecoder.decode(compact: [
                "thumb:resize:100:webp:q=80", "medium:resize:200:jpeg:q=85", "large:resize:400:webp:q=75",
            ])
            let (report, variants) = try await run(sharedEngine, source, pipeline)

            #expect(report.source.format == .jpeg && report.source.width == 800 && report.source.height == 600)
            // Decoded once, shrunk on load to the largest variant.
            #expect(report.decodedWidth == 400 && report.decodedHeight == 300)
            #expect(report.variants.map(\.id) == ["thumb", "medium", "large"])
            #expect(report.variants.map(\.width) == [100, 200, 400])
            #expect(report.variants.map(\.height) == [75, 150, 300])
            for item in report.variants {
                #expect(item.bytes > 0 && item.bytes == variants[item.id]?.data.count)
                #expect(item.milliseconds >= 0)
            }
            let medium = Fixtures.decode(variants["medium"]!.data)
            #expect(medium.width == 200 && medium.height == 150)
            #expect(Array(variants["thumb"]!.data[8..<12]) == Array("WEBP".utf8))
            #expect(Array(variants["medium"]!.data[0..<2]) == [0xFF, 0xD8])
        }

        @Test func variantsStreamAsEachIsEncoded() async throws {
            let source = Fixtures.encode(Fixtures.noise(width: 320, height: 240), as: .png)
            let pipeline = try PipelineDecoder.decode(compact: [
                "a:resize:50:png", "b:resize:60:jpeg", "c:resize:70:webp",
            ])
            var seen: [String] = []
            var decoded = false
            for try await event in sharedEngine.events(source: source, pipeline: pipeline) {
                switch event {
                case .decoded(_, let width, _, _):
                    #expect(seen.isEmpty, "decoded comes first")
                    #expect(width == 70)
                    decoded = true
                case .variant(let item):
                    seen.append(item.id)
                }
            }
            #expect(decoded && seen == ["a", "b", "c"])
        }

        @Test func everyOutputFormatEncodes() async throws {
            let source = Fixtures.encode(Fixtures.noise(width: 128, height: 96), as: .png)
            let pipeline = try PipelineDecoder.decode(compact: [
                "j:resize:64:jpeg:progressive", "p:resize:64:png", "w:resize:64:webp:lossless", "a:resize:64:avif",
                "h:resize:64:heic", "g:resize:64:gif",
            ])
            let (report, variants) = try await run(sharedEngine, source, pipeline)
            #expect(report.variants.count == 6)
            let signatures: [String: (Int, [UInt8])] = [
                "j": (0, [0xFF, 0xD8]), "p": (1, Array("PNG".utf8)), "w": (8, Array("WEBP".utf8)),
                "a": (8, Array("avif".utf8)), "h": (8, Array("heic".utf8)), "g": (0, Array("GIF".utf8)),
            ]
            for (id, (offset, magic)) in signatures {
                let data = try #require(variants[id]).data
                #expect(Array(data[offset..<offset + magic.count]) == magic, "\(id) has the wrong signature")
                let decoded = Fixtures.decode(data)
                #expect(decoded.width == 64 && decoded.height == 48, "\(id) decodes to the wrong size")
            }
        }

        @Test func neverUpscalesUnlessEnlarge() async throws {
            let source = Fixtures.encode(Fixtures.noise(width: 64, height: 48), as: .png)
            let pipeline = try PipelineDecoder.decode(compact: ["same:resize:200:png", "big:resize:200:png:enlarge"])
            let (report, _) = try await run(sharedEngine, source, pipeline)
            #expect(report.variants[0].width == 64 && report.variants[0].height == 48)
            #expect(report.variants[1].width == 200 && report.variants[1].height == 150)
        }

        @Test func resizeByHeightOnly() async throws {
            let source = Fixtures.encode(Fixtures.noise(width: 400, height: 200), as: .png)
            let (report, _) = try await run(sharedEngine, source, variant("tall:resize:x50:png"))
            #expect(report.variants[0].width == 100 && report.variants[0].height == 50)
        }
    }
}
