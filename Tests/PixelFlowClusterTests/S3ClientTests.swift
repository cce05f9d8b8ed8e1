import Foundation
import NIOCore
import Testing

@testable import PixelFlowObjects

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension LiveCluster {
    /// The S3 client against a real S3-compatible server (moto) on a loopback port.
    @Suite("S3 client against moto", .serialized) struct S3ClientTests {
        static func client(
            _ server: MotoServer, id: String = "AKIATESTKEY", secret: String = "test-secret"
        ) throws -> S3Client {
            try S3Client(
                settings: S3Settings(
                    endpoint: server.endpoint, bucket: "pixelflow", prefix: "jobs",
                    credentials: ObjectStoreCredentials(accessKeyID: id, secretAccessKey: secret)))
        }

        @Test func objectsGoInComeOutAndGoAwayAndPresignedURLsWorkWithoutCredentials() async throws {
            let server = try MotoServer()
            let s3 = try Self.client(server)
            try await s3.createBucket()
            try await s3.createBucket()  // already there: fine
            let key = s3.key("acme/7/a b+ሴ.jpg")
            #expect(key == "jobs/acme/7/a b+ሴ.jpg")
            let bytes = ByteBuffer(bytes: (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7) })
            try await s3.put(bytes, key: key, contentType: "image/jpeg")
            #expect(try await s3.get(key: key, limit: 1 << 20) == bytes)
            #expect(try await s3.size(key: key) == 100_000)
            await #expect(throws: ObjectStoreError.self) { try await s3.get(key: key, limit: 1_000) }

            let (downloaded, response) = try await URLSession.shared.data(
                from: URL(string: s3.presignedURL(method: "GET", key: key, expires: 60))!)
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            #expect(Array(downloaded) == Array(bytes.readableBytesView))

            var upload = URLRequest(
                url: URL(string: s3.presignedURL(method: "PUT", key: s3.key("acme/7/source"), expires: 60))!)
            upload.httpMethod = "PUT"
            let (_, uploaded) = try await URLSession.shared.upload(for: upload, from: Data("fresh bytes".utf8))
            #expect((uploaded as? HTTPURLResponse)?.statusCode == 200)
            #expect(String(buffer: try await s3.get(key: s3.key("acme/7/source"), limit: 100)) == "fresh bytes")

            try await s3.delete(key: key)
            #expect(try await s3.size(key: key) == nil)
            do {
                _ = try await s3.get(key: key, limit: 1 << 20)
                Issue.record("a deleted object was read")
            } catch {
                #expect(error.isMissing && error.code == "NoSuchKey", "\(error)")
            }
        }

        @Test func aServerThatChecksSignaturesTakesOursAndRefusesAWrongSecret() async throws {
            let server = try MotoServer(checkSignatures: true)
            let user = try await server.createS3User()
            let s3 = try Self.client(server, id: user.id, secret: user.secret)
            try await s3.createBucket()
            try await s3.put(ByteBuffer(string: "signed"), key: s3.key("k"))
            #expect(String(buffer: try await s3.get(key: s3.key("k"), limit: 100)) == "signed")

            let forged = try Self.client(server, id: user.id, secret: user.secret + "x")
            do {
                try await forged.put(ByteBuffer(string: "forged"), key: s3.key("k"))
                Issue.record("a request signed with the wrong secret was accepted")
            } catch {
                #expect(error.status == 403 && error.code == "SignatureDoesNotMatch", "\(error)")
            }
            #expect(String(buffer: try await s3.get(key: s3.key("k"), limit: 100)) == "signed")
        }

        @Test func anUnreachableServerIsATypedError() async throws {
            let s3 = try S3Client(
                settings: S3Settings(
                    endpoint: "http://127.0.0.1:\(try MotoServer.freePort())", bucket: "b",
                    credentials: ObjectStoreCredentials(accessKeyID: "a", secretAccessKey: "b")))
            do {
                try await s3.put(ByteBuffer(string: "x"), key: "k")
                Issue.record("put to nothing succeeded")
            } catch {
                #expect(error.code == "Unreachable" && error.status == nil, "\(error)")
            }
            #expect(throws: ObjectStoreError.self) {
                try S3Client(
                    settings: S3Settings(
                        endpoint: "ftp://x", bucket: "b",
                        credentials: ObjectStoreCredentials(accessKeyID: "a", secretAccessKey: "b")))
            }
        }
    }
}
