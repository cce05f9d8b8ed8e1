import PixelFlowPipeline

/// One finished variant: its bytes and what they are.
public struct EncodedVariant: Sendable {
    public let id: String
    public let format: OutputFormat
    public let width: Int
    public let height: Int
    public let data: [UInt8]
    /// Wall-clock milliseconds spent deriving and encoding this variant (the shared decode excluded).
    public let milliseconds: Double

    public var report: VariantReport {
        VariantReport(
            id: id, format: format, width: width, height: height, bytes: data.count, milliseconds: milliseconds)
    }
}

/// An encoded variant's description, without its bytes.
public struct VariantReport: Sendable, Equatable {
    public let id: String
    public let format: OutputFormat
    public let width: Int
    public let height: Int
    public let bytes: Int
    public let milliseconds: Double
}

/// What one job did, once every variant has been delivered.
public struct JobReport: Sendable {
    public let source: SourceHeader
    /// Size of the decoded, shrunk-on-load base every variant was derived from.
    public let decodedWidth: Int
    public let decodedHeight: Int
    public let decodeMilliseconds: Double
    public let variants: [VariantReport]
    public let totalMilliseconds: Double
}

/// Events of a running job, in order: `decoded` once, then one `variant` per spec.
public enum JobEvent: Sendable {
    case decoded(SourceHeader, width: Int, height: Int, milliseconds: Double)
    case variant(EncodedVariant)
}
