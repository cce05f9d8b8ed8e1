import Foundation
import PixelFlowImaging

/// A worker's imaging limits: the `imaging` object of its config file (docs/imaging.md lists the keys), each
/// overridable by `PIXELFLOW_IMAGING_<KEY>` (e.g. `PIXELFLOW_IMAGING_MAX_PIXELS`).
func loadImagingLimits(path: String?, environment: [String: String]) throws -> ImagingLimits {
    var section: [String: Any] = [:]
    if let path = path ?? environment["PIXELFLOW_CONFIG"] {
        let root =
            try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        section = root?["imaging"] as? [String: Any] ?? [:]
    }
    for key in [
        "max_source_bytes", "max_pixels", "max_side", "max_frames", "job_timeout_ms", "decode_budget_bytes",
    ] {
        guard let text = environment["PIXELFLOW_IMAGING_" + key.uppercased()] else { continue }
        guard let value = Int(text) else {
            throw ImagingConfigError(description: "PIXELFLOW_IMAGING_\(key.uppercased()) must be a whole number")
        }
        section[key] = value
    }
    do {
        return try JSONDecoder().decode(ImagingLimits.self, from: try JSONSerialization.data(withJSONObject: section))
    } catch let error as DecodingError {
        throw ImagingConfigError(description: "imaging: \(error)")
    }
}

struct ImagingConfigError: Error, CustomStringConvertible {
    var description: String
}
