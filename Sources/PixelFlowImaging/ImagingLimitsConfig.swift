/// `ImagingLimits` in configuration files: the documented snake_case keys, each optional (a missing key keeps
/// its default), so a worker's JSON config can hold e.g. `"imaging": {"max_pixels": 80000000}`.
extension ImagingLimits: Codable {
    enum CodingKeys: String, CodingKey {
        case maxSourceBytes = "max_source_bytes"
        case maxPixels = "max_pixels"
        case maxSide = "max_side"
        case maxFrames = "max_frames"
        case jobTimeoutMilliseconds = "job_timeout_ms"
        case decodeBudgetBytes = "decode_budget_bytes"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ImagingLimits.default
        func positive(_ key: CodingKeys, _ fallback: Int) throws -> Int {
            guard let value = try container.decodeIfPresent(Int.self, forKey: key) else { return fallback }
            guard value > 0 else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container, debugDescription: "\(key.rawValue) must be positive, got \(value)")
            }
            return value
        }
        self.init(
            maxSourceBytes: try positive(.maxSourceBytes, defaults.maxSourceBytes),
            maxPixels: try positive(.maxPixels, defaults.maxPixels),
            maxSide: try positive(.maxSide, defaults.maxSide),
            maxFrames: try positive(.maxFrames, defaults.maxFrames),
            jobTimeout: .milliseconds(
                try positive(.jobTimeoutMilliseconds, Int(defaults.jobTimeout.components.seconds * 1000))),
            decodeBudgetBytes: try positive(.decodeBudgetBytes, defaults.decodeBudgetBytes)
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(maxSourceBytes, forKey: .maxSourceBytes)
        try container.encode(maxPixels, forKey: .maxPixels)
        try container.encode(maxSide, forKey: .maxSide)
        try container.encode(maxFrames, forKey: .maxFrames)
        let milliseconds =
            jobTimeout.components.seconds * 1000 + jobTimeout.components.attoseconds / 1_000_000_000_000_000
        try container.encode(milliseconds, forKey: .jobTimeoutMilliseconds)
        try container.encode(decodeBudgetBytes, forKey: .decodeBudgetBytes)
    }
}
