import CVipsShim
import Foundation
import PixelFlowPipeline
import Testing

@testable import PixelFlowImaging

/// Test images made with libvips at run time, so no photo has to be committed.
enum Fixtures {
    typealias RGB = (UInt8, UInt8, UInt8)

    static let red: RGB = (220, 30, 30)
    static let green: RGB = (30, 200, 40)
    static let blue: RGB = (30, 40, 220)
    static let yellow: RGB = (240, 220, 20)

    /// An image from a per-pixel colour function, `bands` 1 (grey from red), 3 or 4 (opaque unless `alpha` says).
    static func image(
        width: Int, height: Int, bands: Int = 3, alpha: (Int, Int) -> UInt8 = { _, _ in 255 },
        colour: (Int, Int) -> RGB
    ) -> VipsImageRef {
        VipsRuntime.start()
        var pixels = [UInt8](repeating: 0, count: width * height * bands)
        for y in 0..<height {
            for x in 0..<width {
                let (r, g, b) = colour(x, y)
                let offset = (y * width + x) * bands
                switch bands {
                case 1: pixels[offset] = r
                case 2: pixels[offset] = r; pixels[offset + 1] = alpha(x, y)
                default:
                    pixels[offset] = r; pixels[offset + 1] = g; pixels[offset + 2] = b
                    if bands == 4 { pixels[offset + 3] = alpha(x, y) }
                }
            }
        }
        let image = pixels.withUnsafeBufferPointer {
            pf_image_from_pixels($0.baseAddress, Int32(width), Int32(height), Int32(bands))!
        }
        // new_from_memory guesses the interpretation from the bands; make it explicit.
        image.pointee.Type = bands < 3 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB
        return VipsImageRef(owning: image)
    }

    static func solid(_ colour: RGB, width: Int = 64, height: Int = 48) -> VipsImageRef {
        image(width: width, height: height) { _, _ in colour }
    }

    /// Four quadrants: red top-left, green top-right, blue bottom-left, yellow bottom-right.
    static func quadrantColour(x: Int, y: Int, width: Int, height: Int) -> RGB {
        switch (x < width / 2, y < height / 2) {
        case (true, true): red
        case (false, true): green
        case (true, false): blue
        case (false, false): yellow
        }
    }

    static func quadrants(width: Int, height: Int) -> VipsImageRef {
        image(width: width, height: height) { quadrantColour(x: $0, y: $1, width: width, height: height) }
    }

    /// A deterministic busy texture, so encoders and smart crop have real work.
    static func noise(width: Int, height: Int, seed: UInt32 = 1) -> VipsImageRef {
        var state = seed
        return image(width: width, height: height) { x, y in
            state = state &* 1_664_525 &+ 1_013_904_223
            let n = UInt8(truncatingIfNeeded: state >> 24)
            return (UInt8(truncatingIfNeeded: x &+ Int(n) / 4), UInt8(truncatingIfNeeded: y &* 2), n)
        }
    }

    enum Encoding { case jpeg, png, webp, tiff, gif, heic, avif }

    static func encode(
        _ image: VipsImageRef, as encoding: Encoding, strip: Bool = true, quality: Int32 = 95, progressive: Bool = false
    ) -> [UInt8] {
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        let s: Int32 = strip ? 1 : 0
        let status: Int32 =
            switch encoding {
            case .jpeg: pf_jpegsave_buffer(image.pointer, &buffer, &length, quality, progressive ? 1 : 0, s)
            case .png: pf_pngsave_buffer(image.pointer, &buffer, &length, s)
            case .webp: pf_webpsave_buffer(image.pointer, &buffer, &length, quality, 0, 4, s)
            case .tiff: pf_tiffsave_buffer(image.pointer, &buffer, &length)
            case .gif: pf_gifsave_buffer(image.pointer, &buffer, &length, 7, s)
            case .heic:
                pf_heifsave_buffer(
                    image.pointer, &buffer, &length, quality, 0, Int32(VIPS_FOREIGN_HEIF_COMPRESSION_HEVC.rawValue), s)
            case .avif:
                pf_heifsave_buffer(
                    image.pointer, &buffer, &length, quality, 0, Int32(VIPS_FOREIGN_HEIF_COMPRESSION_AV1.rawValue), s)
            }
        precondition(status == 0, "fixture encode failed: \(VipsErrorBuffer.take())")
        defer { g_free(buffer) }
        return Array(UnsafeRawBufferPointer(start: buffer, count: length))
    }

    /// A shallow copy whose metadata can be changed without touching `image`.
    static func copy(_ image: VipsImageRef) -> VipsImageRef {
        try! image.apply("copy") { pf_copy($0, $1) }
    }

    static func decode(_ bytes: [UInt8]) -> VipsImageRef {
        VipsRuntime.start()
        // The buffer must outlive the lazy image: render it to memory while the bytes are pinned.
        return bytes.withUnsafeBytes { raw in
            let lazy = try! VipsImageRef.make("load") {
                pf_image_new_from_buffer(raw.baseAddress, raw.count, Int32(VIPS_FAIL_ON_NONE.rawValue), $0)
            }
            return try! lazy.copiedToMemory()
        }
    }

    static func pixel(_ image: VipsImageRef, _ x: Int, _ y: Int) -> [Double] {
        var vector: UnsafeMutablePointer<Double>?
        var count: Int32 = 0
        precondition(pf_getpoint(image.pointer, &vector, &count, Int32(x), Int32(y)) == 0)
        defer { g_free(vector) }
        return Array(UnsafeBufferPointer(start: vector, count: Int(count)))
    }

    static func hasField(_ image: VipsImageRef, _ name: String) -> Bool {
        vips_image_get_typeof(image.pointer, name) != 0
    }
}

/// Colour comparison with a tolerance, for lossy round trips.
func close(_ pixel: [Double], _ expected: Fixtures.RGB, tolerance: Double = 16) -> Bool {
    guard pixel.count >= 3 else { return false }
    return abs(pixel[0] - Double(expected.0)) <= tolerance && abs(pixel[1] - Double(expected.1)) <= tolerance
        && abs(pixel[2] - Double(expected.2)) <= tolerance
}

func variant(_ compact: String) -> Pipeline {
    try! PipelineDecoder.decode(compact: [compact])
}

/// Runs a job and returns the error code it failed with, or `nil` when it succeeded.
func failureCode(
    _ engine: ImagingEngine, _ source: [UInt8], _ pipeline: Pipeline = variant("v:resize:32:png")
) async -> ImagingError.Code? {
    do {
        _ = try await engine.process(source: source, pipeline: pipeline)
        return nil
    } catch let error as ImagingError {
        return error.code
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

/// Collects each variant's bytes as the engine delivers them.
actor Collected {
    var variants: [String: EncodedVariant] = [:]
    var order: [String] = []
    func add(_ variant: EncodedVariant) {
        variants[variant.id] = variant
        order.append(variant.id)
    }
}

func run(
    _ engine: ImagingEngine, _ source: [UInt8], _ pipeline: Pipeline
) async throws -> (JobReport, [String: EncodedVariant]) {
    let collected = Collected()
    let report = try await engine.process(source: source, pipeline: pipeline) { await collected.add($0) }
    return (report, await collected.variants)
}

/// libvips' object and memory counters are process-wide: the leak check is only exact when no other
/// job runs, so every imaging suite nests in this serialized one (the whole suite still takes seconds).
@Suite(.serialized) enum ImagingTests {}

/// One engine for the suite: two threads, like the machine.
let sharedEngine = ImagingEngine(threads: 2)
