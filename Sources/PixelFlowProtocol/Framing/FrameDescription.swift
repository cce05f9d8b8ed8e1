import NIOCore

/// A readable, field-by-field account of a frame, for golden vectors, logs and `pfctl decode`.
/// Field names are the spec's (snake_case); byte blobs are shown in hex, JSON blobs as text.
extension Frame {
    public var fieldLines: [String] {
        let header =
            "header: type=\(message.frameType) (0x\(hex(message.frameType.rawValue))) flags=0x\(hex(message.flags)) stream=\(streamID)"
        var lines = [header]
        switch message {
        case .chunk(let chunk):
            lines.append("end: \(chunk.isLast)")
            lines.append("codec: \(chunk.codec)")
            lines.append("decoded_size: \(chunk.decodedSize)")
            lines.append("data: \(Self.render(chunk.data))")
        default:
            lines += Self.fields(of: Mirror(reflecting: message).children.first!.value, prefix: "")
        }
        return lines
    }

    private static func fields(of value: Any, prefix: String) -> [String] {
        var lines: [String] = []
        for child in Mirror(reflecting: value).children {
            guard let label = child.label else { continue }
            let name = prefix + snakeCase(label)
            lines += describe(child.value, name: name)
        }
        return lines
    }

    private static func describe(_ value: Any, name: String) -> [String] {
        // Optionals first: a dynamic cast would see through one (`Optional(21) is any BinaryInteger`).
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let some = mirror.children.first?.value else { return [] }
            // A group of trailing v2 fields (TaskUsage): listed as the enclosing payload's own, as on the wire.
            guard Mirror(reflecting: some).displayStyle == .struct else { return describe(some, name: name) }
            let parent = name.lastIndex(of: ".").map { String(name[...$0]) } ?? ""
            return fields(of: some, prefix: parent)
        }
        switch value {
        case let bytes as [UInt8]: return ["\(name): \(bytes.map { hex($0) }.joined())"]
        case let buffer as ByteBuffer: return ["\(name): \(render(buffer))"]
        case let string as String: return ["\(name): \"\(string)\""]
        case let code as ErrorCode: return ["\(name): \(code.rawValue) (\(code.name))"]
        case let role as PeerRole: return ["\(name): \(role.rawValue) (\(role))"]
        case let formats as OutputFormats: return ["\(name): 0x\(String(formats.rawValue, radix: 16))"]
        case let counts as UsageCounts:  // the bucket's own fields on the wire
            return fields(of: counts, prefix: String(name.dropLast("counts".count)))
        case let limits as ProtocolLimits:
            return fields(of: limits, prefix: "").filter { !$0.hasPrefix("handshake_timeout") }
        case is any BinaryInteger, is Bool: return ["\(name): \(value)"]
        case let list as [Any]:
            if list.isEmpty { return ["\(name): []"] }
            return list.enumerated().flatMap { index, element in fields(of: element, prefix: "\(name)[\(index)].") }
        default:
            if mirror.displayStyle == .enum { return ["\(name): \(value)"] }
            return fields(of: value, prefix: "\(name).")
        }
    }

    private static func render(_ buffer: ByteBuffer) -> String {
        let bytes = Array(buffer.readableBytesView)
        if let text = String(validating: bytes, as: UTF8.self), !text.isEmpty,
            text.unicodeScalars.allSatisfy({ $0.value >= 0x20 })
        {
            return "\(bytes.count) bytes: \(text)"
        }
        return "\(bytes.count) bytes: \(bytes.map { hex($0) }.joined())"
    }

    private static func snakeCase(_ name: String) -> String {
        // jobID → job_id, webhookURL → webhook_url, leaseMilliseconds → lease_ms (the spec's names).
        var result = ""
        var previousWasLower = false
        for character in name {
            if character.isUppercase && previousWasLower { result += "_" }
            result += character.lowercased()
            previousWasLower = character.isLowercase
        }
        return result.split(separator: "_").map { $0 == "milliseconds" ? "ms" : String($0) }.joined(separator: "_")
    }
}

func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}
