import Crypto
import Foundation
import PixelFlowProtocol

/// The `PixelFlow-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the tenant's
/// webhook_secret>`. The timestamp lets a receiver refuse old replays; docs/webhooks.md shows the check.
enum WebhookSignature {
    static let header = "PixelFlow-Signature"

    static func value(body: [UInt8], secret: [UInt8], timestamp: Int64) -> String {
        var signed = Array("\(timestamp).".utf8)
        signed += body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: secret))
        return "t=\(timestamp),v1=" + Hex.encode(mac)
    }
}
