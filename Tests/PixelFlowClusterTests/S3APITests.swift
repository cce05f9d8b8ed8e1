import Foundation
import NIOCore
import PixelFlowObjects
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension LiveCluster {
    /// `source_type: s3_presigned` against a real S3-compatible server (moto): the client uploads to the object
    /// store with the presigned URL it was given, and the started job runs from that object.
    @Suite("HTTP API with an object store", .serialized)
    struct S3APITests {
        static let secret = "moto-secret-key"

        static func start() async throws -> (MotoServer, ClusterProcesses, APIClient) {
            let moto = try MotoServer()
            let s3 = try S3Client(
                settings: S3Settings(
                    endpoint: moto.endpoint, bucket: "pixelflow",
                    credentials: ObjectStoreCredentials(accessKeyID: "AKIATESTKEY", secretAccessKey: secret)))
            try await s3.createBucket()
            let cluster = try ClusterProcesses(extraConfig: [
                "objects": [
                    "s3": [
                        "endpoint": moto.endpoint, "bucket": "pixelflow", "access_key_id": "AKIATESTKEY",
                        "secret_access_key_env": "TEST_S3_SECRET", "prefix": "uploads/", "presign_ttl": "10m",
                    ]
                ]
            ])
            cluster.environment["TEST_S3_SECRET"] = secret
            try cluster.startCoordinator(api: true)
            try cluster.startWorker("w1")
            try await cluster.waitForWorkers(1)
            return (moto, cluster, APIClient(address: cluster.apiAddress, token: ClusterProcesses.acmeToken))
        }

        @Test(
            "create gives a presigned PUT to the bucket; start before the upload is 409 source_missing; after it the job runs from the object"
        )
        func presignedUpload() async throws {
            let (moto, cluster, api) = try await Self.start()
            defer { withExtendedLifetime(cluster) {} }
            let created = try await api.call(
                "POST", "/v1/jobs", json: ["source_type": "s3_presigned", "pipeline": HTTPAPITests.pipeline])
            #expect(created.status == 201, "\(created.text)")
            let id = try #require(created.json["job_id"] as? String)
            let upload = try #require(created.json["upload"] as? [String: Any])
            let url = try #require(upload["url"] as? String)
            #expect(url.hasPrefix("\(moto.endpoint)/pixelflow/uploads/acme/\(id)/source?"), "\(url)")
            #expect(url.contains("X-Amz-Signature=") && url.contains("X-Amz-Expires=600"))

            let early = try await api.call("POST", "/v1/jobs/\(id)/start")
            #expect(early.status == 409 && early.errorCode == "source_missing", "\(early.text)")

            let source = TestImages.jpeg(width: 1000, height: 750, seed: 11)
            var put = URLRequest(url: URL(string: url)!)
            put.httpMethod = "PUT"
            let (_, response) = try await URLSession.shared.upload(for: put, from: Data(source))
            #expect((response as? HTTPURLResponse)?.statusCode == 200)

            #expect(try await api.call("POST", "/v1/jobs/\(id)/start").status == 202)
            let job = try await api.waitUntilEnded(id)
            #expect(job["status"] as? String == "succeeded", "\(job)")
            #expect((job["source"] as? [String: Any])?["bytes"] as? Int == source.count)
            let variants = try #require(job["variants"] as? [[String: Any]])
            #expect(variants.first { $0["id"] as? String == "big" }?["height"] as? Int == 480)
        }

        @Test("an object store that is down at start: 503 storage_error with Retry-After, the job stays created")
        func objectStoreDown() async throws {
            let (moto, cluster, api) = try await Self.start()
            let id = try #require(
                try await api.call(
                    "POST", "/v1/jobs", json: ["source_type": "s3_presigned", "pipeline": HTTPAPITests.pipeline]
                )
                .json["job_id"] as? String)
            moto.stop()
            let refused = try await api.call("POST", "/v1/jobs/\(id)/start")
            #expect(refused.status == 503 && refused.errorCode == "storage_error", "\(refused.text)")
            #expect(refused.headers["retry-after"] == "1")
            #expect(try await api.call("GET", "/v1/jobs/\(id)").json["status"] as? String == "created")
            #expect(try await cluster.http("/healthz").contains("ok"))
        }

        @Test("without objects.s3, s3_presigned is refused at create with invalid_request")
        func noObjectStore() async throws {
            let cluster = try ClusterProcesses()
            try cluster.startCoordinator(api: true)
            let api = APIClient(address: cluster.apiAddress, token: ClusterProcesses.acmeToken)
            let refused = try await api.call(
                "POST", "/v1/jobs", json: ["source_type": "s3_presigned", "pipeline": HTTPAPITests.pipeline])
            #expect(refused.status == 400 && refused.errorCode == "invalid_request")
            #expect(refused.errorMessage.contains("objects.s3"))
        }
    }
}
