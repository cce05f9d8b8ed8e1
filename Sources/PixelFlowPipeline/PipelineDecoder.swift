import Foundation

/// Turns job JSON (or a compact `--variant` string) into a validated ``Pipeline``.
///
/// Every rejection is a ``PipelineError`` whose field path names the offending value.
public enum PipelineDecoder {
    /// Accepts the original job object (`{"pipeline": [...], ...}`; other job keys are ignored here)
    /// or a bare array of variants.
    public static func decode(json: Data) throws(PipelineError) -> Pipeline {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: json)
        } catch {
            throw PipelineError(field: "", "not valid JSON (\(Self.describe(error)))")
        }
        switch root {
        case .array(let items):
            return try decode(variants: items)
        case .object(let job):
            guard let pipeline = job["pipeline"] else {
                throw PipelineError(
                    field: "pipeline", "is missing: expected a job object with \"pipeline\" or an array of variants")
            }
            guard case .array(let items) = pipeline else {
                throw PipelineError(field: "pipeline", "expected an array, got \(pipeline.kindName)")
            }
            return try decode(variants: items)
        case .null, .bool, .integer, .number, .string:
            throw PipelineError(field: "", "expected a job object or an array of variants, got \(root.kindName)")
        }
    }

    public static func decode(variants items: [JSONValue]) throws(PipelineError) -> Pipeline {
        guard items.count <= Pipeline.maxVariants else {
            throw PipelineError(
                field: "pipeline", "has \(items.count) variants, at most \(Pipeline.maxVariants) are allowed")
        }
        var specs: [VariantSpec] = []
        for (index, item) in items.enumerated() {
            specs.append(try VariantFields.spec(from: item, path: "pipeline[\(index)]"))
        }
        return try Pipeline(specs)
    }

    /// Parses one variant in the compact form documented on ``CompactVariant``.
    public static func decode(compact: [String]) throws(PipelineError) -> Pipeline {
        var specs: [VariantSpec] = []
        for (index, text) in compact.enumerated() {
            let object = try CompactVariant.object(from: text, path: "--variant[\(index)]")
            specs.append(try VariantFields.spec(from: object, path: "--variant[\(index)]"))
        }
        return try Pipeline(specs)
    }

    private static func describe(_ error: any Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context): return context.underlyingError.map { "\($0)" } ?? context.debugDescription
            case .keyNotFound(_, let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
                return context.debugDescription
            @unknown default: return "\(decoding)"
            }
        }
        return "\(error)"
    }
}
