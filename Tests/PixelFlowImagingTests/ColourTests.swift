import CVipsShim
import PixelFlowPipeline
import Testing

@testable import PixelFlowImaging

extension ImagingTests {
    /// Real-photo colour handling: ICC profiles, CMYK, 16-bit, grey and alpha end up as the right sRGB values.
    @Suite struct ColourTests {
        static let swatch: Fixtures.RGB = (200, 60, 40)

        static func transformed(_ image: VipsImageRef, to profile: String) -> VipsImageRef {
            try! image.apply("icc_transform") { pf_icc_transform($0, $1, profile, 1) }
        }

        private func centre(of data: [UInt8]) -> [Double] {
            let image = Fixtures.decode(data)
            return Fixtures.pixel(image, image.width / 2, image.height / 2)
        }

        @Test func cmykJPEGWithProfileBecomesSRGB() async throws {
            let cmyk = Self.transformed(Fixtures.solid(Self.swatch), to: "cmyk")
            #expect(cmyk.bands == 4 && cmyk.interpretation == VIPS_INTERPRETATION_CMYK)
            let source = Fixtures.encode(cmyk, as: .jpeg, strip: false)
            let (_, variants) = try await run(sharedEngine, source, variant("v:resize:32:png"))
            let pixel = centre(of: try #require(variants["v"]).data)
            #expect(pixel.count == 3)
            #expect(close(pixel, Self.swatch, tolerance: 20), "got \(pixel)")
        }

        @Test func cmykJPEGWithoutProfileBecomesSRGB() async throws {
            let cmyk = Self.transformed(Fixtures.solid(Self.swatch), to: "cmyk")
            let source = Fixtures.encode(cmyk, as: .jpeg, strip: true)
            #expect(
                !Fixtures.hasField(Fixtures.decode(source), "icc-profile-data"), "the fixture must carry no profile")
            let (_, variants) = try await run(sharedEngine, source, variant("v:resize:32:jpeg"))
            let pixel = centre(of: try #require(variants["v"]).data)
            #expect(pixel.count == 3)
            #expect(close(pixel, Self.swatch, tolerance: 24), "got \(pixel)")
        }

        @Test func embeddedProfileIsConvertedToSRGB() async throws {
            // The same colour encoded for Display P3: its stored numbers differ from the sRGB ones.
            let p3 = Self.transformed(Fixtures.solid(Self.swatch), to: "p3")
            let stored = Fixtures.pixel(p3, 1, 1)
            #expect(!close(stored, Self.swatch, tolerance: 8), "P3 numbers must differ for this test to mean anything")
            let source = Fixtures.encode(p3, as: .png, strip: false)
            let (_, variants) = try await run(sharedEngine, source, variant("v:resize:32:png"))
            let pixel = centre(of: try #require(variants["v"]).data)
            #expect(close(pixel, Self.swatch, tolerance: 6), "got \(pixel)")
        }

        @Test func embeddedSRGBProfileKeepsSaturatedColours() async throws {
            let tagged = Self.transformed(Fixtures.quadrants(width: 64, height: 48), to: "srgb")
            #expect(Fixtures.hasField(tagged, "icc-profile-data"))
            let source = Fixtures.encode(tagged, as: .png, strip: false)
            let (_, variants) = try await run(sharedEngine, source, variant("v:resize:64:png"))
            let output = Fixtures.decode(try #require(variants["v"]).data)
            #expect(
                close(Fixtures.pixel(output, 8, 8), Fixtures.red, tolerance: 6), "got \(Fixtures.pixel(output, 8, 8))")
            #expect(
                close(Fixtures.pixel(output, 8, 40), Fixtures.blue, tolerance: 6),
                "got \(Fixtures.pixel(output, 8, 40))")
        }

        @Test func sixteenBitPNGBecomesEightBit() async throws {
            let wide = try Fixtures.solid(Self.swatch).apply("colourspace") {
                pf_colourspace($0, $1, Int32(VIPS_INTERPRETATION_RGB16.rawValue))
            }
            #expect(wide.bandFormat == VIPS_FORMAT_USHORT)
            let source = Fixtures.encode(wide, as: .png)
            let (_, variants) = try await run(sharedEngine, source, variant("v:resize:32:png"))
            let output = Fixtures.decode(try #require(variants["v"]).data)
            #expect(output.bandFormat == VIPS_FORMAT_UCHAR)
            #expect(close(Fixtures.pixel(output, 10, 10), Self.swatch, tolerance: 2))
        }

        @Test func greyStaysGrey() async throws {
            let grey = Fixtures.image(width: 64, height: 48, bands: 1) { _, _ in (90, 90, 90) }
            let source = Fixtures.encode(grey, as: .png)
            let (_, variants) = try await run(sharedEngine, source, variant("v:resize:32:jpeg"))
            let output = Fixtures.decode(try #require(variants["v"]).data)
            #expect(output.bands == 1)
            #expect(abs(Fixtures.pixel(output, 10, 10)[0] - 90) <= 3)
        }

        @Test func alphaIsKeptOrFlattenedOntoBackground() async throws {
            // Left half opaque red, right half fully transparent.
            let rgba = Fixtures.image(width: 64, height: 48, bands: 4, alpha: { x, _ in x < 32 ? 255 : 0 }) { _, _ in
                Fixtures.red
            }
            let source = Fixtures.encode(rgba, as: .png)
            let pipeline = try PipelineDecoder.decode(compact: [
                "keep:resize:64:png", "flat:resize:64:jpeg:background=#00ff00",
            ])
            let (_, variants) = try await run(sharedEngine, source, pipeline)

            let kept = Fixtures.decode(try #require(variants["keep"]).data)
            #expect(kept.bands == 4)
            #expect(Fixtures.pixel(kept, 50, 20)[3] == 0)
            #expect(Fixtures.pixel(kept, 10, 20)[3] == 255)

            let flat = Fixtures.decode(try #require(variants["flat"]).data)
            #expect(flat.bands == 3)
            #expect(close(Fixtures.pixel(flat, 54, 20), (0, 255, 0)))
            #expect(close(Fixtures.pixel(flat, 8, 20), Fixtures.red))
        }

        @Test func webpOutputCarriesNoMetadataWhenStripped() async throws {
            let tagged = Fixtures.copy(Self.transformed(Fixtures.noise(width: 64, height: 48), to: "p3"))
            vips_image_set_int(tagged.pointer, "orientation", 1)
            let source = Fixtures.encode(tagged, as: .jpeg, strip: false)
            #expect(Fixtures.hasField(Fixtures.decode(source), "exif-data"), "the fixture must carry EXIF")
            let pipeline = try PipelineDecoder.decode(compact: [
                "stripped:resize:32:webp", "kept:resize:32:jpeg:strip=false",
            ])
            let (_, variants) = try await run(sharedEngine, source, pipeline)
            let stripped = Fixtures.decode(try #require(variants["stripped"]).data)
            #expect(!Fixtures.hasField(stripped, "exif-data") && !Fixtures.hasField(stripped, "icc-profile-data"))
            #expect(!Fixtures.hasField(stripped, "xmp-data"))
            #expect(Fixtures.hasField(Fixtures.decode(try #require(variants["kept"]).data), "exif-data"))
        }
    }
}
