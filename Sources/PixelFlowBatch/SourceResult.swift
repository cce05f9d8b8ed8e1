/// One source's outcome: what `--json` prints and the summary adds up.
public struct SourceResult: Sendable, Equatable {
    public struct Variant: Sendable, Equatable {
        public let id: String
        public let path: String
        public let width: Int
        public let height: Int
        /// Canonical format name: `jpeg`, `png`, `webp`, `avif`, `heic`, `gif`.
        public let format: String
        public let bytes: Int
        public let milliseconds: Double

        public init(id: String, path: String, width: Int, height: Int, format: String, bytes: Int, milliseconds: Double)
        {
            self.id = id
            self.path = path
            self.width = width
            self.height = height
            self.format = format
            self.bytes = bytes
            self.milliseconds = milliseconds
        }
    }

    public struct Failure: Sendable, Equatable {
        /// A stable snake_case code (`undecodable_image`, `io_error`, `rate_limited`…).
        public let code: String
        public let message: String

        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    public let source: String
    public let bytesIn: Int
    public let variants: [Variant]
    public let failure: Failure?
    /// Submissions repeated after a rate-limit or queue-full rejection (always 0 in-process).
    public let retries: Int

    public init(source: String, bytesIn: Int, variants: [Variant], failure: Failure?, retries: Int = 0) {
        self.source = source
        self.bytesIn = bytesIn
        self.variants = variants
        self.failure = failure
        self.retries = retries
    }
}
