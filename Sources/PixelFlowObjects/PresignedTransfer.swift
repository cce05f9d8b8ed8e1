import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// GET and PUT on presigned URLs: what a worker does with ASSIGN_OBJECT. The URL carries the whole authorisation,
/// so the worker needs no credentials of the object store.
public struct PresignedTransfer: Sendable {
    private let http: HTTPClient
    /// The whole request, connection to last byte.
    public var timeout: TimeAmount

    public init(http: HTTPClient = S3Client.transport, timeout: TimeAmount = .seconds(60)) {
        self.http = http
        self.timeout = timeout
    }

    /// The object's bytes: exactly `size` of them (any other length: `SizeMismatch`).
    public func get(_ url: String, size: Int) async throws(ObjectStoreError) -> ByteBuffer {
        try await ObjectResponse.exactly(size) { limit throws(ObjectStoreError) in
            try await ObjectResponse.body(limit: limit, request: "GET \(Self.redacted(url))") {
                try await http.execute(HTTPClientRequest(url: url), timeout: timeout)
            }
        }
    }

    public func put(_ bytes: ByteBuffer, to url: String, contentType: String) async throws(ObjectStoreError) {
        var request = HTTPClientRequest(url: url)
        request.method = .PUT
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Content-Length", value: String(bytes.readableBytes))
        request.body = .bytes(bytes)
        _ = try await ObjectResponse.body(limit: 1 << 16, request: "PUT \(Self.redacted(url))") {
            try await http.execute(request, timeout: timeout)
        }
    }

    /// The URL without its query: a presigned URL's signature is a credential, kept out of messages and logs.
    public static func redacted(_ url: String) -> String {
        url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
    }
}
