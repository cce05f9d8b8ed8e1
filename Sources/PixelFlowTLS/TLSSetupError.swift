/// Why TLS could not be set up from the files given: which file, and what is wrong with it.
public struct TLSSetupError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
