import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// Where objects live on an S3-compatible server (AWS S3, MinIO, Ceph RGW, moto): `objects.s3` in the config.
public struct S3Settings: Sendable, Hashable {
    /// `http(s)://host[:port]` of the server.
    public var endpoint: String
    public var region: String
    public var bucket: String
    /// Bucket in the path (`endpoint/bucket/key`, what MinIO and moto want) rather than in the host name.
    public var pathStyle: Bool
    /// Prepended to every key, without a trailing slash (empty: none).
    public var prefix: String
    public var credentials: ObjectStoreCredentials
    /// Each request, connection to last byte (`objects.s3.timeout_ms`).
    public var timeout: TimeAmount = .seconds(30)

    public init(
        endpoint: String, region: String = "us-east-1", bucket: String, pathStyle: Bool = true, prefix: String = "",
        credentials: ObjectStoreCredentials
    ) {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.pathStyle = pathStyle
        self.prefix = prefix
        self.credentials = credentials
    }
}

/// Why an object request failed: the server's status and its error code (`NoSuchKey`, `SignatureDoesNotMatch`…),
/// or a transport error.
public struct ObjectStoreError: Error, Sendable, CustomStringConvertible {
    public var status: Int?
    public var code: String
    public var message: String

    public var description: String {
        status.map { "\(code) (HTTP \($0)): \(message)" } ?? "\(code): \(message)"
    }

    public var isMissing: Bool { status == 404 }
}

/// The few S3 calls PixelFlow needs — put, get (bounded), head, delete, create bucket, presign — signed with SigV4.
public struct S3Client: Sendable {
    public let settings: S3Settings
    private let signer: SigV4
    private let http: HTTPClient
    private let scheme: String
    private let authority: String

    /// One client for every object store of the process (never shut down, like `HTTPClient.shared`): a server that
    /// cannot be reached fails a request within a connect timeout of 3 s (or the request's own deadline, if sooner).
    public static let transport: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(3), read: .seconds(30))
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public init(settings: S3Settings, http: HTTPClient = S3Client.transport) throws(ObjectStoreError) {
        guard let url = URL(string: settings.endpoint), let scheme = url.scheme, ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty
        else {
            throw ObjectStoreError(
                code: "InvalidEndpoint", message: "objects.s3.endpoint \(settings.endpoint) is not an http(s) URL")
        }
        self.settings = settings
        self.signer = SigV4(credentials: settings.credentials, region: settings.region)
        self.http = http
        self.scheme = scheme
        let port = url.port.map { ":\($0)" } ?? ""
        self.authority = settings.pathStyle ? host + port : "\(settings.bucket).\(host)\(port)"
    }

    /// The full key of `name` under the configured prefix.
    public func key(_ name: String) -> String {
        settings.prefix.isEmpty ? name : "\(settings.prefix)/\(name)"
    }

    private func path(ofKey key: String?) -> String {
        let object = key.map { "/\($0)" } ?? ""
        return settings.pathStyle ? "/\(settings.bucket)\(object)" : (object.isEmpty ? "/" : object)
    }

    /// A URL anyone can `method` the object at `key` with, for `expires` seconds from `now`.
    public func presignedURL(method: String, key: String, expires: Int, now: Date = Date()) -> String {
        let path = path(ofKey: key)
        let query = signer.presignedQuery(method: method, host: authority, path: path, expires: expires, date: now)
        return "\(scheme)://\(authority)\(SigV4.canonicalURI(path))?\(query)"
    }

    public func put(
        _ bytes: ByteBuffer, key: String, contentType: String = "application/octet-stream"
    ) async throws(ObjectStoreError) {
        let hash = SigV4.hex(SHA256.hash(data: Data(bytes.readableBytesView)))
        _ = try await send(
            "PUT", key: key, body: bytes, payloadHash: hash, extraHeaders: [("Content-Type", contentType)],
            limit: 1 << 16)
    }

    /// The object's bytes, at most `limit` (more: `EntityTooLarge`, nothing more read).
    public func get(key: String, limit: Int) async throws(ObjectStoreError) -> ByteBuffer {
        try await send("GET", key: key, limit: limit)
    }

    /// The object's bytes, exactly `size` of them (any other length: `SizeMismatch`).
    public func get(key: String, size: Int) async throws(ObjectStoreError) -> ByteBuffer {
        try await ObjectResponse.exactly(size) { limit throws(ObjectStoreError) in try await get(key: key, limit: limit)
        }
    }

    /// The object's size, or nil when there is no such object.
    public func size(key: String) async throws(ObjectStoreError) -> UInt64? {
        do {
            let response = try await exchange(
                "HEAD", key: key, body: nil, payloadHash: SigV4.emptyPayloadHash, extraHeaders: [])
            guard (200..<300).contains(Int(response.status.code)) else {
                if response.status.code == 404 { return nil }
                throw ObjectStoreError(status: Int(response.status.code), code: "HeadFailed", message: "HEAD \(key)")
            }
            return response.headers.first(name: "content-length").flatMap { UInt64($0) }
        } catch let error as ObjectStoreError {
            throw error
        } catch {
            throw ObjectStoreError(code: "Unreachable", message: "\(error)")
        }
    }

    public func delete(key: String) async throws(ObjectStoreError) {
        _ = try await send("DELETE", key: key, limit: 1 << 16)
    }

    /// Creates the bucket (tests and first runs); one that exists already is fine.
    public func createBucket() async throws(ObjectStoreError) {
        do {
            _ = try await send("PUT", key: nil, limit: 1 << 16)
        } catch  where ["BucketAlreadyOwnedByYou", "BucketAlreadyExists"].contains(error.code) {
            return
        }
    }

    // MARK: Requests

    private func send(
        _ method: String, key: String?, body: ByteBuffer? = nil, payloadHash: String = SigV4.emptyPayloadHash,
        extraHeaders: [(String, String)] = [], limit: Int
    ) async throws(ObjectStoreError) -> ByteBuffer {
        try await ObjectResponse.body(limit: limit, request: "\(method) \(key ?? "/")") {
            try await exchange(method, key: key, body: body, payloadHash: payloadHash, extraHeaders: extraHeaders)
        }
    }

    private func exchange(
        _ method: String, key: String?, body: ByteBuffer?, payloadHash: String, extraHeaders: [(String, String)]
    ) async throws -> HTTPClientResponse {
        let path = path(ofKey: key)
        let now = Date()
        var headers: [(name: String, value: String)] = [
            ("host", authority), ("x-amz-content-sha256", payloadHash), ("x-amz-date", SigV4.amzDate(now)),
        ]
        headers += extraHeaders.map { (name: $0.0, value: $0.1) }
        if let token = settings.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        let signed = signer.sign(
            SigV4.Request(method: method, path: path, headers: headers), payloadHash: payloadHash, date: now)
        var request = HTTPClientRequest(url: "\(scheme)://\(authority)\(SigV4.canonicalURI(path))")
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers where name != "host" { request.headers.add(name: name, value: value) }
        request.headers.add(name: "Authorization", value: signer.authorization(signed))
        if let body {
            request.body = .bytes(body)
            request.headers.add(name: "Content-Length", value: String(body.readableBytes))
        }
        return try await http.execute(request, timeout: settings.timeout)
    }

    /// An S3 error document's `<Code>` and `<Message>`.
    static func error(status: Int, body: ByteBuffer) -> ObjectStoreError {
        let text = String(buffer: body)
        func element(_ name: String) -> String? {
            guard let start = text.range(of: "<\(name)>"),
                let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex)
            else { return nil }
            return String(text[start.upperBound..<end.lowerBound])
        }
        return ObjectStoreError(
            status: status, code: element("Code") ?? "HTTP\(status)",
            message: element("Message") ?? String(text.prefix(200)))
    }
}
