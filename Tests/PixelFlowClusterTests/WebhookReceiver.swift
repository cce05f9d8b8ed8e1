import Crypto
import Foundation

/// tools/webhook-receiver.py as a child process: a real HTTP receiver on a free loopback port that logs each
/// delivery and checks its signature with the verification example of docs/webhooks.md.
final class WebhookReceiver: @unchecked Sendable {
    struct Delivery {
        var time: Double
        var eventID: String
        var status: Int
        var signatureOK: Bool
        var body: [String: Any]
    }

    static let secret = "webhook-secret-0123456789"
    static var repository: URL { ToolServer.repository }

    let server: ToolServer
    let log: URL
    var port: Int { server.port }

    init(directory: URL, failFirst: Int = 0) throws {
        log = directory.appendingPathComponent("webhooks-\(UUID().uuidString).jsonl")
        server = try ToolServer(
            "webhook-receiver.py",
            arguments: ["--log", log.path, "--secret", Self.secret, "--fail-first", "\(failFirst)"],
            directory: directory)
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    var deliveries: [Delivery] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let body = (object["body"] as? String).flatMap({
                    try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                })
            else { return nil }
            return Delivery(
                time: object["t"] as? Double ?? 0, eventID: object["event_id"] as? String ?? "",
                status: object["status"] as? Int ?? 0, signatureOK: object["signature_ok"] as? Bool ?? false, body: body
            )
        }
    }

    /// Waits until `condition` holds for the deliveries so far.
    func wait(timeout: Duration, until condition: ([Delivery]) -> Bool) async -> [Delivery] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let current = deliveries
            if condition(current) { return current }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return deliveries
    }

    /// A `PixelFlow-Signature` value computed here, independently of the coordinator's code.
    static func signature(body: String, secret: String, timestamp: Int64) -> String {
        let key = SymmetricKey(data: Array(secret.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).\(body)".utf8), using: key)
        return "t=\(timestamp),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Runs docs/webhook_verify.py's `verify` on a signature and body.
    static func verify(secret: String, header: String, body: String) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); from webhook_verify import verify; "
                + "sys.exit(0 if verify(sys.argv[2].encode(), sys.argv[3], sys.argv[4].encode()) else 1)",
            repository.appendingPathComponent("docs").path, secret, header, body,
        ]
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
