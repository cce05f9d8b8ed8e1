import Crypto
import Foundation

/// Credentials for an S3-compatible object store.
public struct ObjectStoreCredentials: Sendable, Hashable {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// Set for temporary credentials: signed as `x-amz-security-token`.
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// AWS Signature Version 4, for requests (an `Authorization` header) and presigned URLs (query parameters), as S3
/// and its compatibles check it. Pure: the time is an argument. Paths are signed as S3 wants them — each segment
/// percent-encoded once, never normalised — so an object key with `//` or `..` signs as the key it is.
public struct SigV4: Sendable {
    public var credentials: ObjectStoreCredentials
    public var region: String
    public var service: String

    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public init(credentials: ObjectStoreCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// A request to sign: `path` and `query` as they are (not yet percent-encoded), headers as sent (`host`
    /// included; a name may repeat).
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: [(name: String, value: String)]
        public var headers: [(name: String, value: String)]

        public init(
            method: String, path: String, query: [(name: String, value: String)] = [],
            headers: [(name: String, value: String)]
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
        }
    }

    /// The steps of one signature, each a string a test can compare with the published one.
    public struct Signed: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var signedHeaders: String
        public var credentialScope: String
    }

    /// Signs `request` (which must carry `x-amz-date` = `amzDate(date)`, and `x-amz-content-sha256` for S3) with
    /// the body's SHA-256 hex, or `unsignedPayload`.
    public func sign(_ request: Request, payloadHash: String, date: Date) -> Signed {
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(request.headers)
        let canonicalRequest = [
            request.method, Self.canonicalURI(request.path), Self.canonicalQuery(request.query), canonicalHeaders,
            signedHeaders, payloadHash,
        ].joined(separator: "\n")
        let scope = "\(Self.day(date))/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", Self.amzDate(date), scope, Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(date)))
        return Signed(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
            signedHeaders: signedHeaders, credentialScope: scope)
    }

    /// The `Authorization` header of a signed request.
    public func authorization(_ signed: Signed) -> String {
        "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(signed.credentialScope), "
            + "SignedHeaders=\(signed.signedHeaders), Signature=\(signed.signature)"
    }

    /// The query of a presigned URL for `method` on `path` at `host`, valid `expires` seconds from `date` (at most
    /// 7 days, as S3 allows): the original query plus the `X-Amz-*` parameters, percent-encoded, signature last.
    public func presignedQuery(
        method: String, host: String, path: String, query: [(name: String, value: String)] = [], expires: Int,
        date: Date
    ) -> String {
        var parameters = query
        parameters += [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(Self.day(date))/\(region)/\(service)/aws4_request"),
            ("X-Amz-Date", Self.amzDate(date)), ("X-Amz-Expires", String(min(max(expires, 1), 604_800))),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if let token = credentials.sessionToken { parameters.append(("X-Amz-Security-Token", token)) }
        let signed = sign(
            Request(method: method, path: path, query: parameters, headers: [("host", host)]),
            payloadHash: Self.unsignedPayload, date: date)
        return Self.canonicalQuery(parameters) + "&X-Amz-Signature=" + signed.signature
    }

    // MARK: Canonical forms

    /// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request")`.
    func signingKey(_ date: Date) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [Self.day(date), region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// Each path segment percent-encoded once; `/` kept; an empty path is `/`.
    static func canonicalURI(_ path: String) -> String {
        path.isEmpty ? "/" : encode(path, keepSlash: true)
    }

    /// Names and values percent-encoded, sorted by name then value (bytewise), `name=value` joined by `&`.
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (encode($0.name, keepSlash: false), encode($0.value, keepSlash: false)) }
            .sorted {
                $0.0 == $1.0
                    ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8)
            }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Lower-cased names in order, each with its values (trimmed, inner runs of spaces made one) joined by `,` in
    /// the order given; and the names joined by `;`.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (String, String) {
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let collapsed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            values[name.lowercased(), default: []].append(collapsed.trimmingCharacters(in: .whitespaces))
        }
        let names = values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let lines = names.map { "\($0):\(values[$0, default: []].joined(separator: ","))\n" }.joined()
        return (lines, names.joined(separator: ";"))
    }

    /// RFC 3986 unreserved characters kept, every other byte as `%XX` (upper-case hex).
    static func encode(_ text: String, keepSlash: Bool) -> String {
        var encoded = ""
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                encoded.unicodeScalars.append(UnicodeScalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                encoded.append("/")
            default:
                encoded += String(format: "%%%02X", byte)
            }
        }
        return encoded
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    public static func amzDate(_ date: Date) -> String {
        let (day, seconds) = utc(date)
        return day + String(format: "T%02d%02d%02dZ", seconds / 3600, seconds / 60 % 60, seconds % 60)
    }

    static func day(_ date: Date) -> String { utc(date).day }

    private static func utc(_ date: Date) -> (day: String, seconds: Int) {
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        let day = String(format: "%04d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
        return (day, Int(parts.tm_hour) * 3600 + Int(parts.tm_min) * 60 + Int(parts.tm_sec))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
