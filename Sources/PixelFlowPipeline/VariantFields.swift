/// Field-by-field validation of one variant object. Unknown fields are rejected so typos surface.
enum VariantFields {
    static let known: Set<String> = [
        "id", "action", "width", "height", "format", "quality", "effort", "lossless", "progressive", "strip",
        "background", "gravity", "crop", "rotate", "flip", "flop", "blur", "sharpen", "enlarge",
    ]
    static let maxIdLength = 64
    static let maxCropCoordinate = 1_000_000
    static let blurRange = 0.1...100.0
    static let sharpenRange = 0.1...10.0
    /// `"sharpen": true` means this sigma.
    static let defaultSharpenSigma = 1.0

    static func spec(from value: JSONValue, path: String) throws(PipelineError) -> VariantSpec {
        guard case .object(let fields) = value else {
            throw PipelineError(field: path, "expected a variant object, got \(value.kindName)")
        }
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw PipelineError(
                field: "\(path).\(unknown)", "unknown field (known: \(known.sorted().joined(separator: ", ")))")
        }
        let reader = FieldReader(fields: fields, path: path)

        let id = try reader.requiredString("id")
        try validate(id: id, field: reader.path("id"))

        let actionName = try reader.requiredString("action")
        guard let action = Action(rawValue: actionName.lowercased()) else {
            throw PipelineError(
                field: reader.path("action"),
                "unknown action \"\(actionName)\" (one of: \(Action.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let formatName = try reader.requiredString("format")
        guard let format = OutputFormat(name: formatName) else {
            throw PipelineError(
                field: reader.path("format"),
                "unknown format \"\(formatName)\" (one of: \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }

        let width = try reader.integer("width", in: 1...Pipeline.maxSide)
        let height = try reader.integer("height", in: 1...Pipeline.maxSide)
        switch action {
        case .resize:
            if width == nil && height == nil {
                throw PipelineError(field: reader.path("width"), "resize needs width, height or both")
            }
        case .cover, .contain:
            if width == nil { throw PipelineError(field: reader.path("width"), "is required for \(action.rawValue)") }
            if height == nil { throw PipelineError(field: reader.path("height"), "is required for \(action.rawValue)") }
        case .crop:
            break
        }

        let quality = try reader.integer("quality", in: 1...100)
        let effort: Int?
        if let range = format.effortRange {
            effort = try reader.integer("effort", in: range)
        } else {
            try reader.reject("effort", "does not apply to \(format.rawValue)")
            effort = nil
        }
        let lossless = try reader.bool("lossless") ?? false
        if lossless && format != .webp { throw PipelineError(field: reader.path("lossless"), "applies to webp only") }
        let progressive = try reader.bool("progressive") ?? false
        if progressive && format != .jpeg {
            throw PipelineError(field: reader.path("progressive"), "applies to jpeg only")
        }
        let strip = try reader.bool("strip") ?? true
        let background = try reader.colour("background")

        let gravity: Gravity
        if let gravityName = try reader.string("gravity") {
            guard action == .cover else { throw PipelineError(field: reader.path("gravity"), "applies to cover only") }
            let normalised = gravityName.lowercased() == "center" ? "centre" : gravityName.lowercased()
            guard let parsed = Gravity(rawValue: normalised) else {
                throw PipelineError(
                    field: reader.path("gravity"),
                    "unknown gravity \"\(gravityName)\" (one of: centre, attention, entropy)")
            }
            gravity = parsed
        } else {
            gravity = .centre
        }

        let crop = try reader.cropRect("crop")
        switch (action, crop) {
        case (.crop, nil):
            throw PipelineError(field: reader.path("crop"), "is required for crop: {\"x\",\"y\",\"width\",\"height\"}")
        case (.crop, .some), (.resize, nil), (.cover, nil), (.contain, nil): break
        case (.resize, .some), (.cover, .some), (.contain, .some):
            throw PipelineError(field: reader.path("crop"), "applies to action crop only")
        }

        let rotate: Rotation
        if let degrees = try reader.integer("rotate", in: Int.min...Int.max) {
            guard let parsed = Rotation(rawValue: degrees) else {
                throw PipelineError(field: reader.path("rotate"), "must be 0, 90, 180 or 270, got \(degrees)")
            }
            rotate = parsed
        } else {
            rotate = .none
        }
        let blur = try reader.double("blur", in: blurRange)
        let sharpen = try reader.sharpen("sharpen", in: sharpenRange, defaultSigma: defaultSharpenSigma)

        return VariantSpec(
            id: id, action: action, width: width, height: height, format: format, quality: quality, effort: effort,
            lossless: lossless, progressive: progressive, strip: strip, background: background, gravity: gravity,
            crop: crop, rotate: rotate, flip: try reader.bool("flip") ?? false, flop: try reader.bool("flop") ?? false,
            blur: blur, sharpen: sharpen, enlarge: try reader.bool("enlarge") ?? false
        )
    }

    /// Ids become file names (`DIR/<stem>/<id>.<ext>`), so they are restricted to a safe alphabet.
    static func validate(id: String, field: String) throws(PipelineError) {
        guard !id.isEmpty else { throw PipelineError(field: field, "must not be empty") }
        guard id.count <= maxIdLength else {
            throw PipelineError(field: field, "longer than \(maxIdLength) characters")
        }
        let allowed = id.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "-", ".": true
            default: false
            }
        }
        guard allowed, id.first != ".", id.first != "-" else {
            throw PipelineError(
                field: field,
                "\"\(id)\" may use only letters, digits, '_', '-' and '.', and must start with a letter, digit or '_'")
        }
    }
}
