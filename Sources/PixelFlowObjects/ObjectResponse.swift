import AsyncHTTPClient
import NIOCore

/// How an answer of an object store becomes bytes or a typed error, for signed requests (`S3Client`) and presigned
/// ones (`PresignedTransfer`) alike.
enum ObjectResponse {
    /// The answer's body, up to `limit` bytes. A non-2xx answer is the server's S3 error document, a longer body
    /// `EntityTooLarge`, a failure to get an answer `Unreachable`; `request` names the request in messages (without
    /// its credentials).
    static func body(
        limit: Int, request: String, _ exchange: () async throws -> HTTPClientResponse
    ) async throws(ObjectStoreError) -> ByteBuffer {
        do {
            let response = try await exchange()
            let bytes = try await response.body.collect(upTo: limit)
            guard (200..<300).contains(Int(response.status.code)) else {
                throw S3Client.error(status: Int(response.status.code), body: bytes)
            }
            return bytes
        } catch let error as ObjectStoreError {
            throw error
        } catch let error as NIOTooManyBytesError {
            throw ObjectStoreError(code: "EntityTooLarge", message: "the object is over \(limit) bytes: \(error)")
        } catch {
            throw ObjectStoreError(code: "Unreachable", message: "\(request): \(error)")
        }
    }

    /// Exactly `size` bytes, from `read` given a limit one byte over (so a longer object is told without reading
    /// it all): any other length is `SizeMismatch`.
    static func exactly(
        _ size: Int, _ read: (_ limit: Int) async throws(ObjectStoreError) -> ByteBuffer
    ) async throws(ObjectStoreError) -> ByteBuffer {
        let bytes: ByteBuffer
        do {
            bytes = try await read(size + 1)
        } catch  where error.code == "EntityTooLarge" {
            throw ObjectStoreError(code: "SizeMismatch", message: "the object is longer than its \(size) bytes")
        }
        guard bytes.readableBytes == size else {
            throw ObjectStoreError(
                code: "SizeMismatch", message: "the object has \(bytes.readableBytes) bytes, not the \(size) expected")
        }
        return bytes
    }
}
