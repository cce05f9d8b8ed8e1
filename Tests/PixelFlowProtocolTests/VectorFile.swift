import Foundation
import NIOCore

/// The text format of proto/vectors/*.hex: `#` lines describe the fields, the rest is the frame in hex
/// (the 12-byte header on the first line, then the payload 16 bytes a line).
enum VectorFile {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("proto/vectors")

    static func url(_ name: String) -> URL { directory.appendingPathComponent("\(name).hex") }

    static func render(title: String, lines: [String], bytes: [UInt8], headerSize: Int) -> String {
        var text = "# \(title)\n" + lines.map { "# \($0)\n" }.joined()
        text += hexLine(bytes.prefix(headerSize)) + "\n"
        var offset = headerSize
        while offset < bytes.count {
            text += hexLine(bytes[offset..<min(offset + 16, bytes.count)]) + "\n"
            offset += 16
        }
        return text
    }

    static func parse(_ text: String) -> (comments: [String], bytes: [UInt8]) {
        var comments: [String] = []
        var bytes: [UInt8] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") {
                comments.append(String(line.dropFirst(2)))
                continue
            }
            for pair in line.split(separator: " ") { bytes.append(UInt8(pair, radix: 16)!) }
        }
        return (comments, bytes)
    }

    private static func hexLine(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
    }

    static var shouldWrite: Bool { ProcessInfo.processInfo.environment["PIXELFLOW_WRITE_VECTORS"] == "1" }
}
