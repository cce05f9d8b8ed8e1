import Foundation
import PixelFlowPipeline

/// One `--json` line, written by hand so the keys keep the documented order:
/// `{"source", "ok", "variants": [{"id","path","width","height","format","bytes","ms"}], "error": {"code","message"} | null}`.
public enum BatchJSONLine {
    public static func render(_ result: SourceResult) -> String {
        let variants = result.variants.map { variant in
            let ms = (variant.milliseconds * 10).rounded() / 10
            return "{\"id\":\(quoted(variant.id)),\"path\":\(quoted(variant.path)),\"width\":\(variant.width),"
                + "\"height\":\(variant.height),\"format\":\(quoted(variant.format)),\"bytes\":\(variant.bytes),\"ms\":\(ms)}"
        }
        let error = result.failure.map { "{\"code\":\(quoted($0.code)),\"message\":\(quoted($0.message))}" } ?? "null"
        return "{\"source\":\(quoted(result.source)),\"ok\":\(result.failure == nil),"
            + "\"variants\":[\(variants.joined(separator: ","))],\"error\":\(error)}"
    }

    /// A JSON string literal (RFC 8259 escaping).
    public static func quoted(_ text: String) -> String { JSONText.quoted(text) }
}
