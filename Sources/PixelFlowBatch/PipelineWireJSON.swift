import PixelFlowPipeline

extension Pipeline {
    /// The pipeline as SUBMIT carries it (PROTOCOL.md §6.3): a bare JSON array of variant objects, with only the
    /// fields that differ from their defaults, so `PipelineDecoder.decode(wire:)` gives back an equal pipeline.
    public var wireJSON: String {
        "[" + variants.map(\.wireJSON).joined(separator: ",") + "]"
    }
}

extension VariantSpec {
    var wireJSON: String {
        var fields: [(String, String)] = [
            ("id", BatchJSONLine.quoted(id)), ("action", BatchJSONLine.quoted(action.rawValue)),
        ]
        if let width { fields.append(("width", "\(width)")) }
        if let height { fields.append(("height", "\(height)")) }
        fields.append(("format", BatchJSONLine.quoted(format.rawValue)))
        if let quality { fields.append(("quality", "\(quality)")) }
        if let effort { fields.append(("effort", "\(effort)")) }
        if lossless { fields.append(("lossless", "true")) }
        if progressive { fields.append(("progressive", "true")) }
        if !strip { fields.append(("strip", "false")) }
        if let background {
            fields.append(("background", "[\(background.red),\(background.green),\(background.blue)]"))
        }
        if gravity != .centre { fields.append(("gravity", BatchJSONLine.quoted(gravity.rawValue))) }
        if let crop {
            fields.append(
                ("crop", "{\"x\":\(crop.x),\"y\":\(crop.y),\"width\":\(crop.width),\"height\":\(crop.height)}"))
        }
        if rotate != .none { fields.append(("rotate", "\(rotate.rawValue)")) }
        if flip { fields.append(("flip", "true")) }
        if flop { fields.append(("flop", "true")) }
        if let blur { fields.append(("blur", "\(blur)")) }
        if let sharpen { fields.append(("sharpen", "\(sharpen)")) }
        if enlarge { fields.append(("enlarge", "true")) }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}
