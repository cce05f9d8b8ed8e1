import NIOCore

/// Field readers that fail with a typed error naming the field, instead of returning nil.
extension ByteBuffer {
    mutating func readField<Integer: FixedWidthInteger>(
        _: Integer.Type, _ field: @autoclosure () -> String
    ) throws(ProtocolError) -> Integer {
        guard let value = readInteger(as: Integer.self) else {
            throw ProtocolError.malformed("payload ends inside \(field())")
        }
        return value
    }

    mutating func readBool(_ field: @autoclosure () -> String) throws(ProtocolError) -> Bool {
        switch try readField(UInt8.self, field()) {
        case 0: return false
        case 1: return true
        case let other: throw ProtocolError.malformed("\(field()) is \(other), must be 0 or 1")
        }
    }

    /// `str`: u16 byte length, then that many bytes of UTF-8.
    mutating func readWireString(_ field: @autoclosure () -> String) throws(ProtocolError) -> String {
        let length = Int(try readField(UInt16.self, "\(field()) length"))
        guard let bytes = readBytes(length: length) else {
            throw ProtocolError.malformed("\(field()) declares \(length) bytes, fewer remain")
        }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw ProtocolError.malformed("\(field()) is not valid UTF-8")
        }
        return string
    }

    /// `blob`: u32 byte length, then that many bytes.
    mutating func readBlob(_ field: @autoclosure () -> String) throws(ProtocolError) -> ByteBuffer {
        let length = Int(try readField(UInt32.self, "\(field()) length"))
        guard let bytes = readSlice(length: length) else {
            throw ProtocolError.malformed("\(field()) declares \(length) bytes, fewer remain")
        }
        return bytes
    }

    mutating func readFixedBytes(_ count: Int, _ field: @autoclosure () -> String) throws(ProtocolError) -> [UInt8] {
        guard let bytes = readBytes(length: count) else {
            throw ProtocolError.malformed("payload ends inside \(field()) (\(count) bytes)")
        }
        return bytes
    }

    /// Writes a `str`. Senders validate lengths first; a longer string is cut at a character boundary
    /// rather than trapping, so a long error message can never crash the sender.
    mutating func writeWireString(_ string: String) {
        var text = Substring(string)
        if text.utf8.count > Int(UInt16.max) {
            text = text.prefix(Int(UInt16.max))
            while text.utf8.count > Int(UInt16.max) { text = text.dropLast() }
        }
        writeInteger(UInt16(text.utf8.count))
        writeBytes(text.utf8)
    }

    mutating func writeBlob(_ blob: ByteBuffer) {
        writeInteger(UInt32(blob.readableBytes))
        writeImmutableBuffer(blob)
    }

    mutating func writeBool(_ value: Bool) {
        writeInteger(UInt8(value ? 1 : 0))
    }
}
