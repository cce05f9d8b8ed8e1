import Foundation
import Logging

/// One line per log event on standard error, as logfmt (`ts=… level=info logger=… msg="…" key=value`) or as a
/// JSON object: what `--log-format` selects.
struct LineLogHandler: LogHandler {
    enum Format: String, CaseIterable, Sendable {
        case logfmt
        case json
    }

    let label: String
    let format: Format
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let own = event.metadata { fields.merge(own) { _, new in new } }
        if let error = event.error { fields["error"] = "\(error)" }
        let line = Self.render(
            timestamp: Self.timestamp(), level: event.level, label: label, message: event.message.description,
            fields: fields, format: format)
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func render(
        timestamp: String, level: Logger.Level, label: String, message: String, fields: Logger.Metadata, format: Format
    ) -> String {
        let ordered =
            [("ts", timestamp), ("level", level.rawValue), ("logger", label), ("msg", message)]
            + fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value.description) }
        switch format {
        case .logfmt:
            return ordered.map { "\($0.0)=\(logfmtValue($0.1))" }.joined(separator: " ")
        case .json:
            let object = Dictionary(ordered, uniquingKeysWith: { first, _ in first })
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// Bare when it needs no quoting; otherwise quoted with `"` and `\` escaped.
    static func logfmtValue(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline }
        guard needsQuotes else { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }

    private static func timestamp() -> String {
        Date().formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
