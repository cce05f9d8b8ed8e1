import ArgumentParser
import Foundation
import PixelFlowProtocol

/// `pfctl decode`: prints the frames of a captured PixelFlow byte stream, field by field.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Print the frames in a captured PixelFlow byte stream, field by field.",
        discussion: """
            The input is one direction of a connection: raw bytes (e.g. from tcpdump/tshark) or hex text in the \
            format of proto/vectors/*.hex ('#' lines are ignored). A leading PXFL preface is recognised.
            Exit status: 0 when every byte decodes, 1 when the stream holds a malformed frame or ends inside one.
            """)

    @Argument(help: "File to read, or - for standard input.")
    var file: String = "-"

    @Flag(help: "Read the input as hex text instead of raw bytes.")
    var hex = false

    func run() throws {
        let data =
            file == "-"
            ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
        let bytes = hex ? try Self.parseHex(String(decoding: data, as: UTF8.self)) : Array(data)
        let transcript = WireTranscript(bytes: bytes)
        for element in transcript.elements {
            switch element {
            case .preface(let preface):
                print("PREFACE min_version=\(preface.minVersion) max_version=\(preface.maxVersion)")
            case .frame(let frame):
                print(frame.fieldLines.first!)
                for line in frame.fieldLines.dropFirst() { print("  \(line)") }
            }
        }
        if let error = transcript.error {
            FileHandle.standardError.write(
                Data("pfctl: malformed frame after \(transcript.elements.count) elements: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if transcript.trailingBytes > 0 {
            FileHandle.standardError.write(
                Data("pfctl: stream ends inside a frame (\(transcript.trailingBytes) bytes)\n".utf8))
            throw ExitCode(1)
        }
    }

    static func parseHex(_ text: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let digits = line.filter { !$0.isWhitespace }
            guard digits.count % 2 == 0 else { throw ValidationError("odd number of hex digits in line: \(line)") }
            var index = digits.startIndex
            while index < digits.endIndex {
                let next = digits.index(index, offsetBy: 2)
                guard let byte = UInt8(digits[index..<next], radix: 16) else {
                    throw ValidationError("not hex: \(digits[index..<next])")
                }
                bytes.append(byte)
                index = next
            }
        }
        return bytes
    }
}
