/// The one-line variant form used by `pixelflow process --variant`:
///
///     ID:ACTION:SIZE:FORMAT[:KEY=VALUE]...
///
/// - SIZE is `W`, `Wx`, `xH`, `WxH` or `-` (no box, e.g. a plain crop).
/// - KEY is any JSON variant field (`quality` may be written `q`); a bare KEY means `KEY=true`.
/// - `crop=X,Y,W,H` gives the crop rectangle.
///
/// Examples: `thumb:resize:150:webp:q=80`, `sq:cover:300x300:avif:gravity=attention:effort=2`,
/// `face:crop:-:png:crop=10,20,300,200`.
///
/// The string is turned into the same object the JSON form would give, so both share one validation.
public enum CompactVariant {
    public static let syntax = "ID:ACTION:SIZE:FORMAT[:KEY=VALUE]..."

    static func object(from text: String, path: String) throws(PipelineError) -> JSONValue {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 4 else {
            throw PipelineError(field: path, "expected \(syntax), got \"\(text)\"")
        }
        var fields: [String: JSONValue] = [
            "id": .string(parts[0]), "action": .string(parts[1]), "format": .string(parts[3]),
        ]
        let (width, height) = try size(parts[2], path: path)
        if let width { fields["width"] = .integer(width) }
        if let height { fields["height"] = .integer(height) }

        for option in parts.dropFirst(4) {
            let pair = option.split(separator: "=", maxSplits: 1).map(String.init)
            guard let rawKey = pair.first, !rawKey.isEmpty else {
                throw PipelineError(field: path, "empty option in \"\(text)\"")
            }
            let key = rawKey == "q" ? "quality" : rawKey
            guard fields[key] == nil else { throw PipelineError(field: "\(path).\(key)", "given twice") }
            fields[key] = pair.count == 2 ? try value(pair[1], key: key, path: path) : .bool(true)
        }
        return .object(fields)
    }

    private static func size(_ text: String, path: String) throws(PipelineError) -> (Int?, Int?) {
        if text == "-" || text.isEmpty { return (nil, nil) }
        let sides = text.split(separator: "x", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        func side(_ digits: String) throws(PipelineError) -> Int? {
            if digits.isEmpty { return nil }
            guard let number = Int(digits) else {
                throw PipelineError(field: "\(path).size", "expected W, Wx, xH, WxH or -, got \"\(text)\"")
            }
            return number
        }
        return (try side(sides[0]), sides.count == 2 ? try side(sides[1]) : nil)
    }

    private static func value(_ text: String, key: String, path: String) throws(PipelineError) -> JSONValue {
        if key == "crop" {
            let numbers = text.split(separator: ",").compactMap { Int($0) }
            guard numbers.count == 4 else {
                throw PipelineError(field: "\(path).crop", "expected crop=X,Y,W,H, got \"\(text)\"")
            }
            return .object([
                "x": .integer(numbers[0]), "y": .integer(numbers[1]),
                "width": .integer(numbers[2]), "height": .integer(numbers[3]),
            ])
        }
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: break
        }
        if let integer = Int(text) { return .integer(integer) }
        if let number = Double(text) { return .number(number) }
        return .string(text)
    }
}
