import Foundation
import Testing

extension LiveCluster {
    /// The HTTP API of a real coordinator (`--api`) with a real worker: the original create → upload → start →
    /// poll → fetch walk-through, its errors, tenants kept apart, and drafts that survive a kill -9.
    @Suite("HTTP API", .serialized)
    struct HTTPAPITests {
        nonisolated(unsafe) static let pipeline: [[String: Any]] = [
            ["id": "thumb", "action": "resize", "width": 160, "format": "webp"],
            ["id": "big", "action": "resize", "width": 640, "format": "jpeg", "quality": 80],
        ]

        static func start(_ cluster: ClusterProcesses, worker: Bool = true) async throws -> APIClient {
            try cluster.startCoordinator(api: true)
            if worker {
                try cluster.startWorker("w1")
                try await cluster.waitForWorkers(1)
            }
            return APIClient(address: cluster.apiAddress, token: ClusterProcesses.acmeToken)
        }

        @Test(
            "create, upload, start, poll, fetch: every variant stored with its dimensions; start before the upload is 409 source_missing, a second start 409"
        )
        func walkThrough() async throws {
            let cluster = try ClusterProcesses()
            let api = try await Self.start(cluster)
            let created = try await api.call(
                "POST", "/v1/jobs", json: ["source_type": "upload", "pipeline": Self.pipeline])
            #expect(created.status == 201, "\(created.text)")
            let id = try #require(created.json["job_id"] as? String)
            #expect(created.json["status"] as? String == "created")
            let upload = try #require(created.json["upload"] as? [String: Any])
            #expect(upload["method"] as? String == "PUT")
            #expect(upload["url"] as? String == "http://\(cluster.apiAddress)/v1/jobs/\(id)/source")

            let early = try await api.call("POST", "/v1/jobs/\(id)/start")
            #expect(early.status == 409 && early.errorCode == "source_missing", "\(early.text)")

            let source = TestImages.jpeg(width: 1280, height: 960, seed: 7)
            let uploaded = try await api.call(
                "PUT", "/v1/jobs/\(id)/source", body: Data(source), contentType: "image/jpeg")
            #expect(uploaded.status == 200, "\(uploaded.text)")
            #expect((uploaded.json["source"] as? [String: Any])?["bytes"] as? Int == source.count)
            let draft = try await api.call("GET", "/v1/jobs/\(id)")
            #expect(draft.json["status"] as? String == "created")
            #expect(draft.json["source_type"] as? String == "upload")

            let started = try await api.call("POST", "/v1/jobs/\(id)/start")
            #expect(started.status == 202, "\(started.text)")
            let again = try await api.call("POST", "/v1/jobs/\(id)/start")
            #expect(again.status == 409 && again.errorCode == "conflict", "\(again.text)")

            let job = try await api.waitUntilEnded(id)
            #expect(job["status"] as? String == "succeeded", "\(job)")
            #expect(job["attempts"] as? Int == 1)
            let variants = try #require(job["variants"] as? [[String: Any]])
            #expect(variants.compactMap { $0["id"] as? String }.sorted() == ["big", "thumb"])
            for variant in variants {
                let url = try #require(variant["url"] as? String)
                let path = String(url.dropFirst("http://\(cluster.apiAddress)".count))
                let bytes = try await api.call("GET", path)
                #expect(bytes.status == 200)
                #expect(bytes.body.count == variant["bytes"] as? Int)
                let seen = try #require(TestImages.inspect(Array(bytes.body)))
                #expect(seen.format == variant["format"] as? String)
                #expect(seen.width == variant["width"] as? Int && seen.height == variant["height"] as? Int)
                #expect(bytes.headers["content-type"] == (seen.format == "webp" ? "image/webp" : "image/jpeg"))
            }
            let big = try #require(variants.first { $0["id"] as? String == "big" })
            #expect(big["width"] as? Int == 640 && big["height"] as? Int == 480)

            let usage = try await api.call("GET", "/v1/usage?since=1h")
            let totals = try #require(usage.json["totals"] as? [[String: Any]])
            #expect(totals.first { $0["tenant"] as? String == "acme" }?["succeeded"] as? Int == 1, "\(usage.text)")
        }

        @Test(
            "tokens and tenants: no token or a wrong one is 401 with WWW-Authenticate, another tenant's job is 404 for every route"
        )
        func tenantsApart() async throws {
            let cluster = try ClusterProcesses()
            let api = try await Self.start(cluster, worker: false)
            let id = try await api.createUploadJob(pipeline: Self.pipeline)

            let anonymous = try await APIClient(address: cluster.apiAddress).call("GET", "/v1/jobs/\(id)")
            #expect(anonymous.status == 401 && anonymous.errorCode == "unauthorized")
            #expect(anonymous.headers["www-authenticate"] == "Bearer")
            let wrong = try await APIClient(address: cluster.apiAddress, token: "not-a-token").call("GET", "/v1/jobs")
            #expect(wrong.status == 401)

            let other = APIClient(address: cluster.apiAddress, token: ClusterProcesses.otherToken)
            for (method, path) in [
                ("GET", "/v1/jobs/\(id)"), ("POST", "/v1/jobs/\(id)/start"), ("DELETE", "/v1/jobs/\(id)"),
                ("GET", "/v1/jobs/\(id)/variants/thumb"),
            ] {
                let reply = try await other.call(method, path)
                #expect(reply.status == 404 && reply.errorCode == "not_found", "\(method) \(path): \(reply.text)")
            }
            let put = try await other.call("PUT", "/v1/jobs/\(id)/source", body: Data([1, 2, 3]))
            #expect(put.status == 404)
            let list = try await other.call("GET", "/v1/jobs")
            #expect((list.json["jobs"] as? [Any])?.isEmpty == true, "\(list.text)")
            #expect(try await api.call("GET", "/v1/jobs/\(id)").status == 200)
        }

        @Test(
            "bad input gets a 4xx with a clear code and the server stays up: JSON, content type, unknown fields, pipeline, body caps, routes"
        )
        func badInput() async throws {
            let cluster = try ClusterProcesses(extraConfig: [
                "api": ["max_json_bytes": 4096], "limits": ["max_source_bytes": 100_000],
            ])
            let api = try await Self.start(cluster, worker: false)
            let cases: [(String, APIClient.Reply, Int, String)] = [
                (
                    "malformed JSON",
                    try await api.call(
                        "POST", "/v1/jobs", body: Data("{\"source_type\":".utf8), contentType: "application/json"),
                    400, "invalid_request"
                ),
                (
                    "wrong content type",
                    try await api.call("POST", "/v1/jobs", body: Data("{}".utf8), contentType: "text/plain"), 415,
                    "unsupported_media_type"
                ),
                (
                    "unknown field",
                    try await api.call(
                        "POST", "/v1/jobs",
                        json: ["source_type": "upload", "pipeline": Self.pipeline, "webhok_url": "http://x"]),
                    400, "invalid_request"
                ),
                (
                    "wrong type",
                    try await api.call(
                        "POST", "/v1/jobs",
                        json: ["source_type": "upload", "pipeline": Self.pipeline, "priority": true]),
                    400, "invalid_request"
                ),
                (
                    "invalid pipeline",
                    try await api.call(
                        "POST", "/v1/jobs",
                        json: ["source_type": "upload", "pipeline": [["id": "a", "action": "resize", "width": -5]]]),
                    400, "invalid_pipeline"
                ),
                (
                    "body over api.max_json_bytes",
                    try await api.call(
                        "POST", "/v1/jobs",
                        json: [
                            "source_type": "upload", "pipeline": Self.pipeline,
                            "idempotency_key": String(repeating: "k", count: 5000),
                        ]),
                    413, "request_too_large"
                ),
                (
                    "unknown source type",
                    try await api.call("POST", "/v1/jobs", json: ["source_type": "ftp", "pipeline": Self.pipeline]),
                    400,
                    "invalid_request"
                ),
                ("unknown route", try await api.call("GET", "/v1/nothing"), 404, "not_found"),
                ("job id not a number", try await api.call("GET", "/v1/jobs/abc"), 404, "not_found"),
                ("bad list state", try await api.call("GET", "/v1/jobs?state=lost"), 400, "invalid_request"),
                ("bad usage since", try await api.call("GET", "/v1/usage?since=yesterday"), 400, "invalid_request"),
            ]
            for (name, reply, status, code) in cases {
                #expect(reply.status == status && reply.errorCode == code, "\(name): \(reply.status) \(reply.text)")
                #expect(!reply.errorMessage.isEmpty, "\(name): no message")
            }
            let pipelineError = cases[4].1.errorMessage
            #expect(pipelineError.contains("pipeline[0]"), "the message names the field: \(pipelineError)")

            let id = try await api.createUploadJob(pipeline: Self.pipeline)
            let tooBig = try await api.call("PUT", "/v1/jobs/\(id)/source", body: Data(count: 150_000))
            #expect(tooBig.status == 413 && tooBig.errorCode == "source_too_large", "\(tooBig.text)")
            let empty = try await api.call("PUT", "/v1/jobs/\(id)/source", body: Data())
            #expect(empty.status == 400 && empty.errorCode == "undecodable_image", "\(empty.text)")
            let huge = try await api.call(
                "GET", "/v1/jobs", headers: ["X-Padding": String(repeating: "p", count: 200_000)])
            #expect((400..<500).contains(huge.status), "a 200 KB header: \(huge.status)")
            #expect(try await api.call("GET", "/healthz").status == 200, "the server is still up")
        }

        @Test(
            "idempotency keys: the same request gives the same job, another pipeline 409; a draft and its upload survive a kill -9 and start after it"
        )
        func idempotencyAndRestart() async throws {
            let cluster = try ClusterProcesses()
            let api = try await Self.start(cluster)
            let body: [String: Any] = [
                "source_type": "upload", "pipeline": Self.pipeline, "idempotency_key": "order-17",
            ]
            let first = try await api.call("POST", "/v1/jobs", json: body)
            #expect(first.status == 201)
            let repeated = try await api.call("POST", "/v1/jobs", json: body)
            #expect(repeated.status == 200 && repeated.json["job_id"] as? String == first.json["job_id"] as? String)
            var changed = body
            changed["pipeline"] = [["id": "x", "action": "resize", "width": 10, "format": "png"]]
            let conflict = try await api.call("POST", "/v1/jobs", json: changed)
            #expect(conflict.status == 409 && conflict.errorCode == "idempotency_conflict", "\(conflict.text)")

            let id = try #require(first.json["job_id"] as? String)
            let source = TestImages.jpeg(width: 800, height: 600, seed: 3)
            #expect(try await api.call("PUT", "/v1/jobs/\(id)/source", body: Data(source)).status == 200)
            try cluster.restartCoordinatorAfterKill()
            let restarted = APIClient(address: cluster.apiAddress, token: ClusterProcesses.acmeToken)
            let draft = try await restarted.call("GET", "/v1/jobs/\(id)")
            #expect(draft.json["status"] as? String == "created", "\(draft.text)")
            #expect((draft.json["source"] as? [String: Any])?["bytes"] as? Int == source.count)
            #expect(try await restarted.call("POST", "/v1/jobs/\(id)/start").status == 202)
            let job = try await restarted.waitUntilEnded(id)
            #expect(job["status"] as? String == "succeeded", "\(job)")
            let fresh = try await restarted.createUploadJob(pipeline: Self.pipeline)
            #expect(UInt64(fresh)! > UInt64(id)!, "ids are not reused after a restart")
            let afterwards = try await restarted.call("POST", "/v1/jobs", json: body)
            #expect(afterwards.status == 200 && afterwards.json["job_id"] as? String == id)
            #expect(afterwards.json["status"] as? String == "succeeded")
        }

        @Test(
            "start spends the tenant's token bucket: 429 with Retry-After, and the draft can be started later; DELETE of a draft deletes it"
        )
        func rateLimitAndCancel() async throws {
            let cluster = try ClusterProcesses(tenants: [
                [
                    "key_id": "acme", "secret": ClusterProcesses.tenantSecret, "rate": 0.5, "burst": 1,
                    "api_token_sha256": ClusterProcesses.sha256Hex(ClusterProcesses.acmeToken),
                ]
            ])
            let api = try await Self.start(cluster)
            var ids: [String] = []
            for seed in 0..<3 {
                let id = try await api.createUploadJob(pipeline: Self.pipeline)
                let source = TestImages.jpeg(width: 400, height: 300, seed: seed)
                #expect(try await api.call("PUT", "/v1/jobs/\(id)/source", body: Data(source)).status == 200)
                ids.append(id)
            }
            #expect(try await api.call("POST", "/v1/jobs/\(ids[0])/start").status == 202)
            let limited = try await api.call("POST", "/v1/jobs/\(ids[1])/start")
            #expect(limited.status == 429 && limited.errorCode == "rate_limited", "\(limited.text)")
            let retryAfter = try #require(limited.headers["retry-after"].flatMap(Int.init))
            #expect((1...3).contains(retryAfter))
            #expect(try await api.call("GET", "/v1/jobs/\(ids[1])").json["status"] as? String == "created")
            try await Task.sleep(for: .seconds(retryAfter))
            #expect(try await api.call("POST", "/v1/jobs/\(ids[1])/start").status == 202)

            let deleted = try await api.call("DELETE", "/v1/jobs/\(ids[2])")
            #expect(deleted.status == 200 && deleted.json["status"] as? String == "cancelled", "\(deleted.text)")
            #expect(try await api.call("GET", "/v1/jobs/\(ids[2])").status == 404)
            #expect(try await api.call("POST", "/v1/jobs/\(ids[2])/start").status == 404)
            #expect(try await api.call("DELETE", "/v1/jobs/\(ids[2])").status == 404)
            for id in ids.prefix(2) {
                #expect(try await api.waitUntilEnded(id)["status"] as? String == "succeeded")
            }
        }

        @Test(
            "DELETE of a queued job cancels it (its webhook says so) and deletes it; of an ended one, deletes it with its variants"
        )
        func deleteJobs() async throws {
            let cluster = try ClusterProcesses(
                extraConfig: ["webhooks": ["allow": ["127.0.0.1"], "retry_backoff_ms": 100]],
                tenants: [
                    [
                        "key_id": "acme", "secret": ClusterProcesses.tenantSecret, "rate": 1000, "burst": 1000,
                        "webhook_secret": WebhookReceiver.secret,
                        "api_token_sha256": ClusterProcesses.sha256Hex(ClusterProcesses.acmeToken),
                    ]
                ])
            let api = try await Self.start(cluster, worker: false)
            let receiver = try WebhookReceiver(directory: cluster.directory)
            let queued = try await api.createUploadJob(
                pipeline: Self.pipeline, extra: ["webhook_url": receiver.url])
            let source = Data(TestImages.jpeg(width: 400, height: 300))
            #expect(try await api.call("PUT", "/v1/jobs/\(queued)/source", body: source).status == 200)
            #expect(try await api.call("POST", "/v1/jobs/\(queued)/start").status == 202)
            let deleted = try await api.call("DELETE", "/v1/jobs/\(queued)")
            #expect(deleted.status == 200 && deleted.json["status"] as? String == "cancelled", "\(deleted.text)")
            #expect(try await api.call("GET", "/v1/jobs/\(queued)").status == 404)
            let event = await receiver.wait(timeout: .seconds(20)) { !$0.isEmpty }.first
            #expect(event?.body["state"] as? String == "cancelled", "\(String(describing: event?.body))")
            #expect(event?.signatureOK == true)

            try cluster.startWorker("w1")
            try await cluster.waitForWorkers(1)
            let ended = try await api.createUploadJob(pipeline: Self.pipeline)
            #expect(try await api.call("PUT", "/v1/jobs/\(ended)/source", body: source).status == 200)
            #expect(try await api.call("POST", "/v1/jobs/\(ended)/start").status == 202)
            #expect(try await api.waitUntilEnded(ended)["status"] as? String == "succeeded")
            #expect(try await api.call("GET", "/v1/jobs/\(ended)/variants/thumb").status == 200)
            let gone = try await api.call("DELETE", "/v1/jobs/\(ended)")
            #expect(gone.status == 200 && gone.json["status"] as? String == "succeeded", "\(gone.text)")
            #expect(try await api.call("GET", "/v1/jobs/\(ended)/variants/thumb").status == 404)
            #expect(try await api.call("GET", "/v1/jobs/\(ended)").status == 404, "not answered from memory either")
            #expect((try await api.call("GET", "/v1/jobs").json["jobs"] as? [Any])?.isEmpty == true)
        }

        @Test("GET /v1/jobs pages newest first with next_cursor, drafts and jobs together or by state")
        func listing() async throws {
            let cluster = try ClusterProcesses()
            let api = try await Self.start(cluster, worker: false)
            var ids: [String] = []
            for _ in 0..<5 { ids.append(try await api.createUploadJob(pipeline: Self.pipeline)) }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await api.call("GET", "/v1/jobs?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
                let jobs = try #require(page.json["jobs"] as? [[String: Any]])
                #expect(jobs.count <= 2)
                seen += jobs.compactMap { $0["job_id"] as? String }
                cursor = page.json["next_cursor"] as? String
            } while cursor != nil
            #expect(seen == ids.reversed())
            let drafts = try await api.call("GET", "/v1/jobs?state=created&limit=500")
            #expect((drafts.json["jobs"] as? [Any])?.count == 5)
            let running = try await api.call("GET", "/v1/jobs?state=running")
            #expect((running.json["jobs"] as? [Any])?.isEmpty == true)
        }
    }
}
