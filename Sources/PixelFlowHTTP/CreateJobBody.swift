import Foundation
import NIOCore
import PixelFlowStore

/// The body of `POST /v1/jobs`, as the original API takes it. Unknown fields are refused (a misspelt
/// `webhook_url` must not be silently ignored); `pipeline` is passed on as JSON to the same rules as SUBMIT's.
struct CreateJobBody {
    var sourceType: JobDraft.SourceType
    var sourceURL: String
    var webhookURL: String
    var idempotencyKey: String
    var priority: UInt8
    var pipeline: ByteBuffer

    static let fields: Set<String> = [
        "source_type", "source_url", "webhook_url", "pipeline", "idempotency_key", "priority",
    ]

    init(json: ByteBuffer) throws(APIError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(json.readableBytesView), options: [.fragmentsAllowed])
        } catch {
            throw APIError(.badRequest, "invalid_request", "the body is not valid JSON")
        }
        guard let fields = object as? [String: Any] else {
            throw APIError(.badRequest, "invalid_request", "the body must be a JSON object")
        }
        if let unknown = fields.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw APIError(
                .badRequest, "invalid_request",
                "unknown field '\(unknown)'; known: \(Self.fields.sorted().joined(separator: ", "))")
        }
        let typed: Typed
        do {
            typed = try JSONDecoder().decode(Typed.self, from: Data(json.readableBytesView))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            guard let expected = Typed.expected[field] else {
                throw APIError(
                    .badRequest, "invalid_request", "a field has the wrong type: \(context.debugDescription)")
            }
            throw APIError(.badRequest, "invalid_request", "\(field) must be \(expected)")
        } catch {
            throw APIError(.badRequest, "invalid_request", "the body does not have the fields of a job")
        }
        guard let typeName = typed.sourceType else {
            throw APIError(.badRequest, "invalid_request", "source_type is required: s3_presigned, url or upload")
        }
        guard let type = JobDraft.SourceType(name: typeName) else {
            throw APIError(
                .badRequest, "invalid_request", "source_type '\(typeName)' is not one of s3_presigned, url, upload")
        }
        sourceType = type
        sourceURL = typed.sourceURL ?? ""
        webhookURL = typed.webhookURL ?? ""
        idempotencyKey = typed.idempotencyKey ?? ""
        guard (0...255).contains(typed.priority ?? 0) else {
            throw APIError(.badRequest, "invalid_request", "priority must be an integer from 0 to 255")
        }
        priority = UInt8(typed.priority ?? 128)
        guard let pipeline = fields["pipeline"] else {
            throw APIError(.badRequest, "invalid_pipeline", "pipeline is required: a list of variants")
        }
        // Only an array is a pipeline; checked before encoding, which traps on a top-level string or number.
        guard pipeline is [Any], JSONSerialization.isValidJSONObject(pipeline),
            let encoded = try? JSONSerialization.data(withJSONObject: pipeline, options: [.sortedKeys])
        else {
            throw APIError(.badRequest, "invalid_pipeline", "pipeline: expected an array of variant objects")
        }
        self.pipeline = ByteBuffer(data: encoded)
        if type == .url, sourceURL.isEmpty {
            throw APIError(.badRequest, "invalid_request", "source_type url needs a source_url")
        }
        if type != .url, !sourceURL.isEmpty {
            throw APIError(.badRequest, "invalid_request", "source_url is only for source_type url")
        }
    }

    /// The fields with a type of their own, as JSONDecoder checks them (it tells a number from a boolean).
    private struct Typed: Decodable {
        var sourceType: String?
        var sourceURL: String?
        var webhookURL: String?
        var idempotencyKey: String?
        var priority: Int64?

        enum CodingKeys: String, CodingKey {
            case sourceType = "source_type", sourceURL = "source_url", webhookURL = "webhook_url"
            case idempotencyKey = "idempotency_key", priority
        }

        static let expected = [
            "source_type": "a string", "source_url": "a string", "webhook_url": "a string",
            "idempotency_key": "a string", "priority": "an integer from 0 to 255",
        ]
    }
}
