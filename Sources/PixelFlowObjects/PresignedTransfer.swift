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

    /// The object's bytes: exactly `size` of them, or an error (`SizeMismatch` when the object is another length).
    public func get(_ url: String, size: Int) async throws(ObjectStoreError) -> ByteBuffer {
        let bytes: ByteBuffer
        do {
            let response = try await http.execute(HTTPClientRequest(url: url), timeout: timeout)
            // One byte over is enough to tell the object is longer than promised.
            let body = try await response.body.collect(upTo: size + 1)
            guard (200..<300).contains(Int(response.status.code)) else {
                throw S3Client.error(status: Int(response.status.code), body: body)
            }
            bytes = body
        } catch let error as ObjectStoreError {
            throw error
        } catch is NIOTooManyBytesError {
            throw ObjectStoreError(code: "SizeMismatch", message: "the object is longer than its \(size) bytes")
        } catch {
            throw ObjectStoreError(code: "Unreachable", message: "GET \(Self.redacted(url)): \(error)")
        }
        guard bytes.readableBytes == size else {
            throw ObjectStoreError(
                code: "SizeMismatch", message: "the object has \(bytes.readableBytes) bytes, not the \(size) expected")
        }
        return bytes
    }

    public func put(_ bytes: ByteBuffer, to url: String, contentType: String) async throws(ObjectStoreError) {
        var request = HTTPClientRequest(url: url)
        request.method = .PUT
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Content-Length", value: String(bytes.readableBytes))
        request.body = .bytes(bytes)
        do {
            let response = try await http.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 1 << 16)
            guard (200..<300).contains(Int(response.status.code)) else {
                throw S3Client.error(status: Int(response.status.code), body: body)
            }
        } catch let error as ObjectStoreError {
            throw error
        } catch {
            throw ObjectStoreError(code: "Unreachable", message: "PUT \(Self.redacted(url)): \(error)")
        }
    }

    /// The URL without its query: a presigned URL's signature is a credential, kept out of messages and logs.
    public static func redacted(_ url: String) -> String {
        url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
    }
}
