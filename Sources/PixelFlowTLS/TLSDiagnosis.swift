import NIOSSL

/// TLS failures in words an operator can act on, instead of BoringSSL's error stack.
public enum TLSDiagnosis {
    /// A readable account of `error` if it is a TLS failure; nil for any other error.
    public static func describe(_ error: any Error) -> String? {
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return "TLS: the coordinator's certificate does not name the host connected to (\(error))"
        }
        guard let error = error as? NIOSSLError else { return nil }
        let text = String(describing: error)
        switch error {
        case .handshakeFailed where text.contains("CERTIFICATE_VERIFY_FAILED"):
            return "TLS: the peer's certificate is not trusted: it does not chain to the CA file, has expired or is "
                + "not yet valid (\(Self.reasons(text)))"
        case .handshakeFailed where text.contains("CERTIFICATE_EXPIRED") || text.contains("certificate expired"):
            return "TLS: the peer rejected this side's certificate as expired"
        case .handshakeFailed where text.contains("EOF during handshake"):
            return "TLS: the peer closed the connection during the TLS handshake (is it a plain port, without the "
                + "coordinator's tls.cert?)"
        case .handshakeFailed where text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST"):
            return "TLS: the peer does not speak TLS (a plain port? the coordinator's tls.cert)"
        case .handshakeFailed:
            return "TLS handshake failed: \(Self.reasons(text))"
        case .uncleanShutdown:
            return "TLS: the peer closed the connection during the TLS exchange (is it a plain port? a worker without "
                + "a client certificate?)"
        default:
            return "TLS: \(text)"
        }
    }

    /// BoringSSL's reason names (`CERTIFICATE_VERIFY_FAILED`, `BAD_SIGNATURE`…), without file paths.
    static func reasons(_ text: String) -> String {
        var found: [String] = []
        var rest = Substring(text)
        while let range = rest.range(of: "OPENSSL_internal:") {
            let tail = rest[range.upperBound...]
            let reason = tail.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !reason.isEmpty && !found.contains(String(reason)) { found.append(String(reason)) }
            rest = tail
        }
        return found.isEmpty ? text : found.joined(separator: ", ")
    }
}
