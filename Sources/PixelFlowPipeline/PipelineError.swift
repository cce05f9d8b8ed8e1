/// A job's pipeline was rejected. `field` is the path of the offending value, e.g. `pipeline[2].width`.
public struct PipelineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Always `invalid_pipeline`: the stable code clients match on.
    public let code: String
    public let field: String
    public let message: String

    public init(field: String, _ reason: String) {
        self.code = "invalid_pipeline"
        self.field = field
        self.message = field.isEmpty ? reason : "\(field): \(reason)"
    }

    public var description: String { message }
}
