import Foundation
import PixelFlowPipeline
import Testing

@testable import PixelFlowImaging

/// The engine's pure parts: the decode plan and the WebP metadata stripper.
@Suite struct DecodePlanTests {
    @Test func largestVariantDecidesTheDecodeSize() throws {
        let plan = DecodePlan(pipeline: Pipeline.canonical, sourceWidth: 4000, sourceHeight: 3000)
        #expect(plan.boxWidth == 1600 && plan.boxHeight == 1200)
    }

    @Test func coverNeedsTheCoveringScale() throws {
        let plan = DecodePlan(pipeline: variant("c:cover:300x300:png"), sourceWidth: 1200, sourceHeight: 600)
        #expect(plan.boxWidth == 600 && plan.boxHeight == 300)
    }

    @Test func neverDecodesAboveNativeSize() throws {
        let plan = DecodePlan(pipeline: variant("big:resize:5000:png:enlarge"), sourceWidth: 1000, sourceHeight: 500)
        #expect(plan.scale == 1 && plan.boxWidth == 1000 && plan.boxHeight == 500)
    }

    @Test func cropWithoutABoxNeedsNativePixels() throws {
        let plan = DecodePlan(
            pipeline: try PipelineDecoder.decode(compact: ["t:resize:100:png", "c:crop:-:png:crop=0,0,50,50"]),
            sourceWidth: 1000, sourceHeight: 500)
        #expect(plan.scale == 1)
    }
}

@Suite struct WebPMetadataTests {
    static func chunk(_ tag: String, _ payload: [UInt8]) -> [UInt8] {
        let size = UInt32(payload.count)
        let header =
            Array(tag.utf8) + [
                UInt8(size & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 24),
            ]
        return header + payload + (payload.count % 2 == 1 ? [0] : [])
    }

    static func riff(_ chunks: [[UInt8]]) -> [UInt8] {
        let body = Array("WEBP".utf8) + chunks.flatMap { $0 }
        let size = UInt32(body.count)
        return Array("RIFF".utf8) + [
            UInt8(size & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 24),
        ] + body
    }

    @Test func dropsMetadataChunksAndFlags() {
        let vp8x = Self.chunk("VP8X", [0x2C] + [UInt8](repeating: 0, count: 9))
        let image = Self.chunk("VP8 ", [1, 2, 3])
        let input = Self.riff([
            vp8x, Self.chunk("ICCP", [9, 9]), image, Self.chunk("EXIF", [7, 7, 7, 7]), Self.chunk("XMP ", [5]),
        ])
        let output = WebPMetadata.stripped(input)
        let expectedVP8X = Self.chunk("VP8X", [0x00] + [UInt8](repeating: 0, count: 9))
        #expect(output == Self.riff([expectedVP8X, image]))
    }

    @Test func leavesMalformedDataAlone() {
        let truncated = Array(Self.riff([Self.chunk("VP8 ", [1, 2, 3, 4])]).dropLast(2))
        #expect(WebPMetadata.stripped(truncated) == truncated)
        #expect(WebPMetadata.stripped([1, 2, 3]) == [1, 2, 3])
    }
}

@Suite struct ImagingLimitsConfigTests {
    @Test func missingKeysKeepTheirDefaults() throws {
        let limits = try JSONDecoder().decode(
            ImagingLimits.self, from: Data(#"{"max_pixels": 80000000, "job_timeout_ms": 1500}"#.utf8))
        #expect(limits.maxPixels == 80_000_000 && limits.jobTimeout == .milliseconds(1500))
        #expect(
            limits.maxSourceBytes == ImagingLimits.default.maxSourceBytes && limits.maxFrames == 1000
                && limits.maxSide == 32_768 && limits.decodeBudgetBytes == 192 * 1024 * 1024)
    }

    @Test func roundTripsAndRejectsNonPositive() throws {
        let limits = ImagingLimits(
            maxSourceBytes: 10, maxPixels: 20, maxSide: 30, maxFrames: 40, jobTimeout: .milliseconds(50),
            decodeBudgetBytes: 60)
        #expect(try JSONDecoder().decode(ImagingLimits.self, from: JSONEncoder().encode(limits)) == limits)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ImagingLimits.self, from: Data(#"{"max_frames": 0}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ImagingLimits.self, from: Data(#"{"decode_budget_bytes": -1}"#.utf8))
        }
    }
}
