import Foundation
import NIOCore
import PixelFlowStore
import Testing

@testable import PixelFlowHTTP

/// The pure parts of the HTTP API: the create body's rules and `since`.
@Suite struct RequestParsingTests {
    static func parse(_ json: String) -> Result<CreateJobBody, APIError> {
        Result { () throws(APIError) in try CreateJobBody(json: ByteBuffer(string: json)) }
    }

    @Test func aFullBodyIsReadAndItsPipelinePassedOnAsJSON() throws {
        let body = try Self.parse(
            #"{"source_type":"upload","webhook_url":"https://hooks.example/x","idempotency_key":"k1","priority":7,"pipeline":[{"id":"t","action":"resize","width":10,"format":"png"}]}"#
        ).get()
        #expect(body.sourceType == .upload && body.webhookURL == "https://hooks.example/x")
        #expect(body.idempotencyKey == "k1" && body.priority == 7)
        let pipeline = try JSONSerialization.jsonObject(with: Data(body.pipeline.readableBytesView)) as? [[String: Any]]
        #expect(pipeline?.first?["width"] as? Int == 10)
    }

    @Test(arguments: [
        (#"{"source_type":"upload"}"#, "invalid_pipeline", "pipeline is required"),
        (#"{"pipeline":[]}"#, "invalid_request", "source_type is required"),
        (#"{"source_type":"upload","pipeline":[],"extra":1}"#, "invalid_request", "unknown field 'extra'"),
        (
            #"{"source_type":"upload","pipeline":[],"priority":256}"#, "invalid_request",
            "priority must be an integer from 0 to 255"
        ),
        (#"{"source_type":"upload","pipeline":[],"priority":true}"#, "invalid_request", "priority must be an integer"),
        (#"{"source_type":"upload","pipeline":[],"webhook_url":5}"#, "invalid_request", "webhook_url must be a string"),
        (#"{"source_type":"url","pipeline":[]}"#, "invalid_request", "needs a source_url"),
        (
            #"{"source_type":"upload","source_url":"http://x","pipeline":[]}"#, "invalid_request",
            "only for source_type url"
        ),
        (#"[1,2]"#, "invalid_request", "must be a JSON object"),
        (#"{"source_type":"upload","pipeline":"AAA"}"#, "invalid_pipeline", "expected an array"),
        (#"{"source_type":"upload","pipeline":7}"#, "invalid_pipeline", "expected an array"),
        (#"{"source_type":"upload","pipeline":null}"#, "invalid_pipeline", "expected an array"),
        (#"{"source_type":"upload","pipeline":{}}"#, "invalid_pipeline", "expected an array"),
        (#"{"source_type":"#, "invalid_request", "not valid JSON"),
    ])
    func badBodiesAreRefusedWithTheirReason(json: String, code: String, message: String) {
        guard case .failure(let error) = Self.parse(json) else {
            Issue.record("accepted: \(json)")
            return
        }
        #expect(error.code == code, "\(json): \(error.message)")
        #expect(error.message.contains(message), "\(json): \(error.message)")
        #expect(error.status == .badRequest)
    }

    @Test func timesAreWrittenAsRFC3339UTCWithMilliseconds() {
        #expect(RFC3339.string(unixMilliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.string(unixMilliseconds: 1_796_169_600_250) == "2026-12-02T00:00:00.250Z")
        #expect(RFC3339.string(unixMilliseconds: 1_709_164_799_999) == "2024-02-28T23:59:59.999Z")
        #expect(RFC3339.string(unixMilliseconds: -1) == "1969-12-31T23:59:59.999Z")
        for probe: Int64 in [0, 951_782_400_123, 1_796_169_600_250, 4_102_444_800_000] {
            let written = RFC3339.string(unixMilliseconds: probe)
            #expect(RFC3339.unixSeconds(written) == probe / 1000, "\(written)")
        }
    }

    @Test func sinceIsADurationATimeOrUnixSeconds() {
        let now: UInt64 = 1_800_000_000
        #expect(UsageSince.seconds("24h", now: now) == now - 86_400)
        #expect(UsageSince.seconds("90m", now: now) == now - 5_400)
        #expect(UsageSince.seconds("3600", now: now) == now - 3_600)
        #expect(UsageSince.seconds("1764633600", now: now) == 1_764_633_600)
        #expect(UsageSince.seconds("2026-12-02T00:00:00Z", now: now) == 1_796_169_600)
        #expect(UsageSince.seconds("2026-12-02T00:00:00.250Z", now: now) == 1_796_169_600)
        #expect(UsageSince.seconds("2026-12-02T01:30:00+01:30", now: now) == 1_796_169_600)
        #expect(UsageSince.seconds("1969-07-20T20:17:40Z", now: now) == 0, "before 1970: from the start")
        #expect(UsageSince.seconds("2024-02-29T00:00:00Z", now: now) == 1_709_164_800)
        #expect(UsageSince.seconds("2023-02-29T00:00:00Z", now: now) == nil)
        #expect(UsageSince.seconds("2026-12-02 00:00:00Z", now: now) == nil)
        #expect(UsageSince.seconds("yesterday", now: now) == nil)
        #expect(UsageSince.seconds("1e55", now: now) == nil)
        #expect(UsageSince.seconds("999999999999999", now: now) == now, "the future: from now")
        #expect(UsageSince.seconds("9999999999999999", now: now) == nil, "more than 15 digits")
        #expect(UsageSince.seconds("1.5h", now: now) == now - 5_400)
        #expect(UsageSince.seconds("1.1234567h", now: now) == nil)
        #expect(UsageSince.seconds("9999-12-31T23:59:59Z", now: now) == now)
        #expect(UsageSince.seconds("-5m", now: now) == nil)
    }
}
