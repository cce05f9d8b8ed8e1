import PixelFlowPipeline

/// Why a job failed. `code` is stable and meant for programs; `message` is for people.
public struct ImagingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        /// The pipeline is invalid, or invalid for this source (e.g. a crop outside the image).
        case invalidPipeline = "invalid_pipeline"
        /// Empty, truncated or corrupt data in an accepted format.
        case undecodableImage = "undecodable_image"
        /// Not one of the accepted input formats (jpeg, png, webp, heif/avif, tiff, gif), including
        /// SVG, PDF, PPM and data no loader recognises.
        case unsupportedFormat = "unsupported_format"
        /// More bytes than `max_source_bytes`.
        case sourceTooLarge = "source_too_large"
        /// A side over `max_side` or more pixels than `max_pixels`, read from the header.
        case imageTooLarge = "image_too_large"
        /// More frames/pages than `max_frames`, read from the header.
        case tooManyFrames = "too_many_frames"
        /// The job ran past `job_timeout_ms`.
        case timeout
        /// The caller stopped waiting for the job.
        case cancelled
        /// libvips failed where it should not have (e.g. an encoder error); the message says where.
        case `internal`
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    init(pipeline error: PipelineError) {
        self.init(.invalidPipeline, error.message)
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
