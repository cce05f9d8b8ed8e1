import Foundation
import PixelFlowPipeline
import PixelFlowProtocol

/// The JSON a job's webhook carries, built once when the job ends and stored as it will be signed and sent:
/// `{"event_id","type","job_id","tenant","state","attempts","ended_at","variants":[{"id","format","width","height",
/// "bytes"}],"error":null|{"code","message"}}` (docs/webhooks.md).
enum WebhookEventBody {
    static func json(eventID: String, job: JobRecord, endedAt: Int64) -> String {
        let state = job.state.description
        let variants = job.variantSummaries.map { variant in
            object([
                ("id", quoted(variant.variantID)), ("format", quoted(variant.format)), ("width", "\(variant.width)"),
                ("height", "\(variant.height)"), ("bytes", "\(variant.size)"),
            ])
        }
        let error =
            job.failure.map { object([("code", quoted($0.code.name)), ("message", quoted($0.message))]) } ?? "null"
        return object([
            ("event_id", quoted(eventID)), ("type", quoted("job.\(state)")), ("job_id", "\(job.id)"),
            ("tenant", quoted(job.tenant)), ("state", quoted(state)), ("attempts", "\(job.attempt)"),
            ("ended_at", quoted(rfc3339(milliseconds: endedAt))),
            ("variants", "[" + variants.joined(separator: ",") + "]"),
            ("error", error),
        ])
    }

    static func object(_ fields: [(String, String)]) -> String { JSONText.object(fields) }

    static func quoted(_ text: String) -> String { JSONText.quoted(text) }

    /// `2026-12-01T20:31:00.123Z`.
    static func rfc3339(milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
