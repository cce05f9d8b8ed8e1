/// Why a payload could not be compressed or decompressed. Every case is a caller-visible, typed failure:
/// nothing here traps, and no case allocates more than the limits it names.
public struct CompressionError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The declared decompressed size is above the hard cap; refused before allocating.
        case declaredSizeOverLimit = "declared_size_over_limit"
        /// The decompressed output would exceed the cap (a stream without a declared size, or a lying header).
        case outputOverLimit = "output_over_limit"
        /// The output size differs from the size the sender declared.
        case sizeMismatch = "size_mismatch"
        /// The input is not a valid stream of the codec (garbage, truncated, checksum error).
        case corrupt = "corrupt"
        /// Bytes follow the first compressed frame (concatenated frames are refused).
        case trailingData = "trailing_data"
        /// The input to compress is larger than the codec or the caller allows.
        case inputTooLarge = "input_too_large"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
