/// Typed access to one JSON object's fields, with errors that carry the field path.
struct FieldReader {
    let fields: [String: JSONValue]
    let path: String

    func path(_ key: String) -> String { "\(path).\(key)" }

    private func value(_ key: String) -> JSONValue? {
        guard let value = fields[key] else { return nil }
        if case .null = value { return nil }
        return value
    }

    func requiredString(_ key: String) throws(PipelineError) -> String {
        guard let text = try string(key) else { throw PipelineError(field: path(key), "is required") }
        return text
    }

    func string(_ key: String) throws(PipelineError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else {
            throw PipelineError(field: path(key), "expected a string, got \(value.kindName)")
        }
        return text
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(PipelineError) -> Int? {
        guard let value = value(key) else { return nil }
        let number: Int
        switch value {
        case .integer(let exact): number = exact
        case .number(let real) where real.rounded() == real && abs(real) < 1e15: number = Int(real)
        default: throw PipelineError(field: path(key), "expected an integer, got \(value.kindName) \(Self.show(value))")
        }
        guard range.contains(number) else {
            throw PipelineError(
                field: path(key), "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    func double(_ key: String, in range: ClosedRange<Double>) throws(PipelineError) -> Double? {
        guard let value = value(key) else { return nil }
        let number: Double
        switch value {
        case .integer(let exact): number = Double(exact)
        case .number(let real): number = real
        default: throw PipelineError(field: path(key), "expected a number, got \(value.kindName)")
        }
        guard range.contains(number) else {
            throw PipelineError(
                field: path(key), "must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    func bool(_ key: String) throws(PipelineError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else {
            throw PipelineError(field: path(key), "expected true or false, got \(value.kindName)")
        }
        return flag
    }

    /// `sharpen` is `true`/`false` or a sigma.
    func sharpen(_ key: String, in range: ClosedRange<Double>, defaultSigma: Double) throws(PipelineError) -> Double? {
        guard let value = value(key) else { return nil }
        if case .bool(let flag) = value { return flag ? defaultSigma : nil }
        return try double(key, in: range)
    }

    func reject(_ key: String, _ reason: String) throws(PipelineError) {
        if value(key) != nil { throw PipelineError(field: path(key), reason) }
    }

    /// `"#rrggbb"`, `"#rgb"` or `[r, g, b]` with 0–255 components.
    func colour(_ key: String) throws(PipelineError) -> RGBColour? {
        guard let value = value(key) else { return nil }
        switch value {
        case .string(let hex):
            guard let colour = RGBColour(hex: hex) else {
                throw PipelineError(field: path(key), "expected \"#rrggbb\", \"#rgb\" or [r, g, b], got \"\(hex)\"")
            }
            return colour
        case .array(let items):
            let components = items.compactMap { item -> UInt8? in
                guard case .integer(let component) = item, (0...255).contains(component) else { return nil }
                return UInt8(component)
            }
            guard items.count == 3, components.count == 3 else {
                throw PipelineError(field: path(key), "expected [r, g, b] with integers 0–255")
            }
            return RGBColour(red: components[0], green: components[1], blue: components[2])
        case .null, .bool, .integer, .number, .object:
            throw PipelineError(field: path(key), "expected \"#rrggbb\", \"#rgb\" or [r, g, b], got \(value.kindName)")
        }
    }

    func cropRect(_ key: String) throws(PipelineError) -> CropRect? {
        guard let value = value(key) else { return nil }
        guard case .object(let rect) = value else {
            throw PipelineError(field: path(key), "expected {\"x\",\"y\",\"width\",\"height\"}, got \(value.kindName)")
        }
        let inner = FieldReader(fields: rect, path: path(key))
        if let unknown = rect.keys.sorted().first(where: { !["x", "y", "width", "height"].contains($0) }) {
            throw PipelineError(field: inner.path(unknown), "unknown field (known: x, y, width, height)")
        }
        let limit = VariantFields.maxCropCoordinate
        func required(_ name: String, _ range: ClosedRange<Int>) throws(PipelineError) -> Int {
            guard let number = try inner.integer(name, in: range) else {
                throw PipelineError(field: inner.path(name), "is required")
            }
            return number
        }
        return CropRect(
            x: try required("x", 0...limit), y: try required("y", 0...limit),
            width: try required("width", 1...limit), height: try required("height", 1...limit))
    }

    private static func show(_ value: JSONValue) -> String {
        switch value {
        case .integer(let number): "\(number)"
        case .number(let number): "\(number)"
        case .string(let text): "\"\(text)\""
        case .bool(let flag): "\(flag)"
        case .null, .array, .object: ""
        }
    }
}
