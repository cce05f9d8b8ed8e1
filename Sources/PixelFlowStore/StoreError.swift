/// Why the job store could not do what was asked. The coordinator turns every kind but `schemaTooNew` into
/// `storage_error` answers and keeps running; `schemaTooNew` stops it, since an older build must not write a
/// newer schema.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The database has migrations this build does not know.
        case schemaTooNew
        /// Not a PixelFlow job store, or damaged beyond reading.
        case corrupt
        /// Another coordinator holds the data directory.
        case locked
        /// Reading or writing failed (full disk, read-only file system, I/O error, missing or truncated blob).
        case io
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
