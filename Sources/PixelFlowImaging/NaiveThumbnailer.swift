import CVipsShim
import Foundation
import PixelFlowPipeline

/// The baseline the benchmark compares against: what a typical libvips user writes, one
/// `vips_thumbnail_buffer` per variant straight from the source bytes (so one decode per variant), then the
/// same encoder settings as the engine. Resize variants only; for measurement, not for serving.
public enum NaiveThumbnailer {
    public static func process(source: [UInt8], pipeline: Pipeline) throws(ImagingError) -> [VariantReport] {
        VipsRuntime.start()
        let result = source.withUnsafeBytes { bytes -> Result<[VariantReport], ImagingError> in
            var reports: [VariantReport] = []
            for spec in pipeline.variants {
                guard spec.action == .resize else {
                    return .failure(
                        ImagingError(
                            .invalidPipeline, "the naive baseline only resizes; \(spec.id) is \(spec.action.rawValue)"))
                }
                let start = ContinuousClock.now
                do throws(VipsFailure) {
                    let image = try VipsImageRef.make("thumbnail_buffer") { out in
                        pf_thumbnail_buffer(
                            bytes.baseAddress, bytes.count, out, Int32(spec.width ?? 10_000_000),
                            Int32(spec.height ?? 10_000_000), Int32(VIPS_SIZE_DOWN.rawValue), nil, "srgb")
                    }
                    let data = try VariantEncoder.encode(image, spec: spec)
                    reports.append(
                        VariantReport(
                            id: spec.id, format: spec.format, width: image.width, height: image.height,
                            bytes: data.count, milliseconds: (ContinuousClock.now - start).milliseconds))
                } catch {
                    return .failure(ImagingError(.undecodableImage, "\(spec.id): \(error.message)"))
                }
            }
            return .success(reports)
        }
        return try result.get()
    }
}
