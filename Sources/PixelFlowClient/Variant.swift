/// One encoded variant, with its bytes reassembled from the chunks that carried it.
public struct Variant: Sendable, Hashable {
    /// The pipeline variant's `id`.
    public var id: String
    /// `jpeg`, `png`, `webp`, `avif`, `heic` or `gif`.
    public var format: String
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// The encoded image, ready to write to a file.
    public var bytes: [UInt8]
    /// Time the worker spent producing this variant.
    public var elapsedMilliseconds: Int
    /// The attempt that produced it (1 = first try).
    public var attempt: Int

    /// Makes a variant, e.g. for a test double of code that handles one.
    public init(
        id: String, format: String, width: Int, height: Int, bytes: [UInt8], elapsedMilliseconds: Int, attempt: Int
    ) {
        self.id = id
        self.format = format
        self.width = width
        self.height = height
        self.bytes = bytes
        self.elapsedMilliseconds = elapsedMilliseconds
        self.attempt = attempt
    }
}
