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

        static func start(
            worker: Bool = true, workersDirect: Bool = true
        ) async throws -> (MotoServer, ClusterProcesses, APIClient) {
            let moto = try MotoServer()
            try await bucket(moto).createBucket()
            let cluster = try ClusterProcesses(
                extraConfig: [
                    "objects": [
                        "s3": [
                            "endpoint": moto.endpoint, "bucket": "pixelflow", "access_key_id": "AKIATESTKEY",
                            "secret_access_key_env": "TEST_S3_SECRET", "prefix": "uploads/", "presign_ttl": "10m",
                            "workers_direct": workersDirect,
                        ]
                    ],
                    "webhooks": ["allow": ["127.0.0.1"], "retry_backoff_ms": 100],
                ],
                tenants: [
                    [
                        "key_id": "acme", "secret": ClusterProcesses.tenantSecret, "rate": 1000, "burst": 1000,
                        "webhook_secret": WebhookReceiver.secret,
                        "api_token_sha256": ClusterProcesses.sha256Hex(ClusterProcesses.acmeToken),
                    ]
                ])
            cluster.environment["TEST_S3_SECRET"] = secret
            try cluster.startCoordinator(api: true)
            if worker {
                try cluster.startWorker("w1")
                try await cluster.waitForWorkers(1)
            }
            return (moto, cluster, APIClient(address: cluster.apiAddress, token: ClusterProcesses.acmeToken))
        }

        static func bucket(_ moto: MotoServer) throws -> S3Client {
            try S3Client(
                settings: S3Settings(
                    endpoint: moto.endpoint, bucket: "pixelflow",
                    credentials: ObjectStoreCredentials(accessKeyID: "AKIATESTKEY", secretAccessKey: secret)))
        }

        /// Creates an `s3_presigned` job and PUTs `source` to its presigned URL, as a client of the original API
        /// would; the job's id.
        static func createAndUpload(
            _ api: APIClient, _ source: [UInt8], extra: [String: Any] = [:]
        ) async throws -> String {
            var body: [String: Any] = ["source_type": "s3_presigned", "pipeline": HTTPAPITests.pipeline]
            for (key, value) in extra { body[key] = value }
            let created = try await api.call("POST", "/v1/jobs", json: body)
            let id = try #require(created.json["job_id"] as? String, "\(created.text)")
            let url = try #require((created.json["upload"] as? [String: Any])?["url"] as? String)
            var put = URLRequest(url: URL(string: url)!)
            put.httpMethod = "PUT"
            let (_, response) = try await URLSession.shared.upload(for: put, from: Data(source))
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            return id
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
            let stored = try #require(job["source"] as? [String: Any])
            #expect(stored["bytes"] as? Int == source.count)
            #expect(stored["object_key"] as? String == "uploads/acme/\(id)/source", "read by the worker, not here")
            let variants = try #require(job["variants"] as? [[String: Any]])
            #expect(variants.first { $0["id"] as? String == "big" }?["height"] as? Int == 480)
        }

        @Test(
            "workers read the source from the bucket and put each variant at <prefix>/<tenant>/<job>/<variant>.<ext>; URLs, FETCH, webhook and pfctl all work"
        )
        func workersUseTheBucket() async throws {
            let (moto, cluster, api) = try await Self.start()
            let receiver = try WebhookReceiver(directory: cluster.directory)
            let source = TestImages.jpeg(width: 1200, height: 900, seed: 5)
            let id = try await Self.createAndUpload(api, source, extra: ["webhook_url": receiver.url])
            #expect(try await api.call("POST", "/v1/jobs/\(id)/start").status == 202)
            let job = try await api.waitUntilEnded(id)
            #expect(job["status"] as? String == "succeeded", "\(job)")

            // In the bucket, where the layout says, with the right dimensions.
            let bucket = try Self.bucket(moto)
            let thumb = try await bucket.get(key: "uploads/acme/\(id)/thumb.webp", limit: 1 << 24)
            let big = try await bucket.get(key: "uploads/acme/\(id)/big.jpg", limit: 1 << 24)
            let thumbImage = try #require(TestImages.inspect(Array(thumb.readableBytesView)))
            #expect(thumbImage.format == "webp" && thumbImage.width == 160 && thumbImage.height == 120)
            let bigImage = try #require(TestImages.inspect(Array(big.readableBytesView)))
            #expect(bigImage.format == "jpeg" && bigImage.width == 640 && bigImage.height == 480)

            // GET /v1/jobs/{id} points at the bucket with presigned GETs; the variant route redirects there.
            let variants = try #require(job["variants"] as? [[String: Any]])
            let bigURL = try #require(variants.first { $0["id"] as? String == "big" }?["url"] as? String)
            #expect(bigURL.hasPrefix("\(moto.endpoint)/pixelflow/uploads/acme/\(id)/big.jpg?"), "\(bigURL)")
            #expect(bigURL.contains("X-Amz-Signature="))
            let (fetched, _) = try await URLSession.shared.data(from: URL(string: bigURL)!)
            #expect(fetched == Data(big.readableBytesView))
            let redirect = try await api.call("GET", "/v1/jobs/\(id)/variants/thumb", followRedirects: false)
            #expect(redirect.status == 307, "\(redirect.status) \(redirect.text)")
            #expect(
                redirect.headers["location"]?.hasPrefix("\(moto.endpoint)/pixelflow/uploads/acme/\(id)/thumb.webp?")
                    == true)

            // The webhook arrives, signed, listing both variants.
            let event = await receiver.wait(timeout: .seconds(20)) { !$0.isEmpty }.first
            #expect(event?.signatureOK == true)
            #expect(event?.body["state"] as? String == "succeeded", "\(String(describing: event?.body))")
            #expect((event?.body["variants"] as? [Any])?.count == 2)

            // The binary protocol is unchanged: pfctl fetch reads the variants (from the bucket, through FETCH)...
            let output = cluster.directory.appendingPathComponent("fetched")
            let fetch = try PfctlClusterTests.pfctl(["fetch", id, "-o", output.path], cluster: cluster)
            #expect(fetch.status == 0, "\(fetch.stderr)")
            let written = try Data(contentsOf: output.appendingPathComponent("\(id)/big.jpg"))
            #expect(written == Data(big.readableBytesView))
            // ...and pfctl process runs stream jobs through the coordinator as before.
            let inputs = cluster.directory.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            try Data(TestImages.jpeg(width: 800, height: 600)).write(to: inputs.appendingPathComponent("a.jpg"))
            let processed = cluster.directory.appendingPathComponent("processed")
            let process = try PfctlClusterTests.pfctl(
                ["process", "--variant", "t:resize:100:webp", "-o", processed.path, inputs.path], cluster: cluster)
            #expect(process.status == 0, "\(process.stderr)")
            #expect(FileManager.default.fileExists(atPath: processed.appendingPathComponent("a/t.webp").path))

            // DELETE takes the job's objects out of the bucket too.
            #expect(try await api.call("DELETE", "/v1/jobs/\(id)").status == 200)
            let keys = ["source", "thumb.webp", "big.jpg"].map { "uploads/acme/\(id)/\($0)" }
            let deadline = ContinuousClock.now + .seconds(10)
            var left = keys
            while !left.isEmpty, ContinuousClock.now < deadline {
                var still: [String] = []
                for key in left where try await bucket.size(key: key) != nil { still.append(key) }
                left = still
                if !left.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(left.isEmpty, "still in the bucket: \(left)")
        }

        @Test("objects.s3.workers_direct false: the coordinator reads the source at start and keeps the results")
        func throughTheCoordinator() async throws {
            let (moto, cluster, api) = try await Self.start(workersDirect: false)
            defer { withExtendedLifetime((moto, cluster)) {} }
            let source = TestImages.jpeg(width: 1000, height: 750, seed: 12)
            let id = try await Self.createAndUpload(api, source)
            #expect(try await api.call("POST", "/v1/jobs/\(id)/start").status == 202)
            let job = try await api.waitUntilEnded(id)
            #expect(job["status"] as? String == "succeeded", "\(job)")
            #expect((job["source"] as? [String: Any])?["sha256"] is String)
            let variants = try #require(job["variants"] as? [[String: Any]])
            let url = try #require(variants.first { $0["id"] as? String == "thumb" }?["url"] as? String)
            #expect(url.hasSuffix("/v1/jobs/\(id)/variants/thumb"), "\(url)")
            #expect(try await api.call("GET", "/v1/jobs/\(id)/variants/thumb").status == 200)
        }

        @Test("an object store that goes down after the start: the job is retried, then fails with storage_error")
        func objectStoreOutageMidJob() async throws {
            let (moto, cluster, api) = try await Self.start(worker: false)
            let id = try await Self.createAndUpload(api, TestImages.jpeg(width: 600, height: 400, seed: 3))
            #expect(try await api.call("POST", "/v1/jobs/\(id)/start").status == 202)
            moto.stop()
            try cluster.startWorker("w1")
            try await cluster.waitForWorkers(1)
            let job = try await api.waitUntilEnded(id)
            #expect(job["status"] as? String == "failed", "\(job)")
            #expect(job["attempts"] as? Int == 5, "every attempt of jobs.max_attempts was made")
            let error = try #require(job["error"] as? [String: Any])
            #expect(error["code"] as? String == "storage_error", "\(error)")
            #expect((error["message"] as? String)?.contains("object store") == true, "\(error)")
            // Nothing crashed: the worker is still there and takes the next job.
            #expect(try await cluster.http("/healthz").contains("ok"))
            let listed = try await api.call("GET", "/v1/jobs?state=failed")
            #expect((listed.json["jobs"] as? [[String: Any]])?.first?["job_id"] as? String == id)
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
