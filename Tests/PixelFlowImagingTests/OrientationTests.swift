import CVipsShim
import PixelFlowPipeline
import Testing

@testable import PixelFlowImaging

extension ImagingTests {
    /// For each EXIF orientation, store the pixels the way a camera would and check the output shows the
    /// quadrants where they belong: red top-left, green top-right, blue bottom-left, yellow bottom-right.
    @Suite struct OrientationTests {
        static let displayWidth = 96
        static let displayHeight = 64

        /// Where display pixel (dx, dy) is stored for orientation `n` (EXIF 2.32, tag 0x0112).
        static func storedPosition(dx: Int, dy: Int, orientation n: Int) -> (Int, Int) {
            let w = displayWidth, h = displayHeight
            switch n {
            case 2: return (w - 1 - dx, dy)
            case 3: return (w - 1 - dx, h - 1 - dy)
            case 4: return (dx, h - 1 - dy)
            case 5: return (dy, dx)
            case 6: return (dy, w - 1 - dx)
            case 7: return (h - 1 - dy, w - 1 - dx)
            case 8: return (h - 1 - dy, dx)
            default: return (dx, dy)
            }
        }

        static func source(orientation n: Int) -> [UInt8] {
            let swapped = n >= 5
            let storedWidth = swapped ? displayHeight : displayWidth
            let storedHeight = swapped ? displayWidth : displayHeight
            var display: [[Fixtures.RGB]] = Array(
                repeating: Array(repeating: (0, 0, 0), count: storedWidth), count: storedHeight)
            for dy in 0..<displayHeight {
                for dx in 0..<displayWidth {
                    let (sx, sy) = storedPosition(dx: dx, dy: dy, orientation: n)
                    display[sy][sx] = Fixtures.quadrantColour(x: dx, y: dy, width: displayWidth, height: displayHeight)
                }
            }
            let stored = Fixtures.copy(
                Fixtures.image(width: storedWidth, height: storedHeight) { x, y in display[y][x] })
            vips_image_set_int(stored.pointer, "orientation", Int32(n))
            return Fixtures.encode(stored, as: .jpeg, strip: false)
        }

        @Test(arguments: 1...8)
        func quadrantsLandInTheirCorners(orientation: Int) async throws {
            let source = Self.source(orientation: orientation)
            let (report, variants) = try await run(sharedEngine, source, variant("v:resize:48:png"))
            #expect(report.source.orientation == orientation)
            let output = Fixtures.decode(try #require(variants["v"]).data)
            #expect(output.width == 48 && output.height == 32)
            let inset = 4
            #expect(
                close(Fixtures.pixel(output, inset, inset), Fixtures.red), "top-left for orientation \(orientation)")
            #expect(
                close(Fixtures.pixel(output, 47 - inset, inset), Fixtures.green),
                "top-right for orientation \(orientation)")
            #expect(
                close(Fixtures.pixel(output, inset, 31 - inset), Fixtures.blue),
                "bottom-left for orientation \(orientation)")
            #expect(
                close(Fixtures.pixel(output, 47 - inset, 31 - inset), Fixtures.yellow),
                "bottom-right for orientation \(orientation)")
        }

        @Test func cropCoordinatesReferToTheOrientedSource() async throws {
            // Orientation 6: stored 64×96, displayed 96×64. The bottom-right display quadrant is yellow.
            let source = Self.source(orientation: 6)
            let (report, variants) = try await run(sharedEngine, source, variant("c:crop:-:png:crop=52,36,40,24"))
            #expect(report.variants[0].width == 40 && report.variants[0].height == 24)
            let output = Fixtures.decode(try #require(variants["c"]).data)
            #expect(close(Fixtures.pixel(output, 20, 12), Fixtures.yellow))
        }
    }
}
