import NIOCore

/// REGISTER (worker → coordinator, stream 0, right after AUTH_OK):
/// `name str · slots u16 · formats u32 (bit set, see `OutputFormats`) · version str`.
public struct Register: WirePayload {
    public static let frameType = FrameType.register
    public var name: String
    /// How many tasks the worker runs at once; the coordinator never assigns more (its credits).
    public var slots: UInt16
    public var formats: OutputFormats
    public var version: String

    public init(name: String, slots: UInt16, formats: OutputFormats, version: String) {
        self.name = name
        self.slots = slots
        self.formats = formats
        self.version = version
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        name = try buffer.readWireString("name")
        slots = try buffer.readField(UInt16.self, "slots")
        formats = OutputFormats(rawValue: try buffer.readField(UInt32.self, "formats"))
        version = try buffer.readWireString("version")
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeWireString(name)
        buffer.writeInteger(slots)
        buffer.writeInteger(formats.rawValue)
        buffer.writeWireString(version)
    }
}

/// The output formats a worker can encode, as a bit set: jpeg 1, png 2, webp 4, avif 8, heic 16, gif 32.
public struct OutputFormats: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let jpeg = OutputFormats(rawValue: 1 << 0)
    public static let png = OutputFormats(rawValue: 1 << 1)
    public static let webp = OutputFormats(rawValue: 1 << 2)
    public static let avif = OutputFormats(rawValue: 1 << 3)
    public static let heic = OutputFormats(rawValue: 1 << 4)
    public static let gif = OutputFormats(rawValue: 1 << 5)
    /// Not a format: bit 31 says the worker takes ASSIGN_OBJECT (it GETs sources and PUTs variants over HTTP).
    /// A job whose data lives in the object store requires it, as other jobs require their formats.
    public static let objects = OutputFormats(rawValue: 1 << 31)
    /// Not a format: bit 30 says the worker's TASK_DONE ends with `decode_ms` (protocol v2; PROTOCOL.md §6.4).
    public static let timings = OutputFormats(rawValue: 1 << 30)

    /// The format a pipeline names (`"jpeg"`, `"png"`, `"webp"`, `"avif"`, `"heic"`, `"gif"`; PROTOCOL.md §6.3);
    /// nil for any other name.
    public init?(name: String) {
        switch name {
        case "jpeg": self = .jpeg
        case "png": self = .png
        case "webp": self = .webp
        case "avif": self = .avif
        case "heic": self = .heic
        case "gif": self = .gif
        default: return nil
        }
    }
}
