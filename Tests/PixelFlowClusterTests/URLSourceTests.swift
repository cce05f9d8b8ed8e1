import Foundation
import Testing

extension LiveCluster {
    /// `source_type: url` against a real loopback HTTP server (tools/source-server.py): fetched when the job is
    /// started, with the SSRF guard checking every redirect hop.
    @Suite("HTTP API: sources fetched from a URL", .serialized)
    struct URLSourceTests {
        /// tools/source-server.py serving `photo` (and the redirects the tests ask of it).
        final class SourceServer: Sendable {
            let server: ToolServer

            init(directory: URL, photo: [UInt8]) throws {
                let file = directory.appendingPathComponent("photo-\(UUID().uuidString).jpg")
                try Data(photo).write(to: file)
                server = try ToolServer("source-server.py", arguments: ["--file", file.path], directory: directory)
            }

            func url(_ path: String) -> String { "http://127.0.0.1:\(server.port)\(path)" }
        }

        static let photo = TestImages.jpeg(width: 900, height: 600, seed: 5)

        static func start(allow: [String]) async throws -> (SourceServer, ClusterProcesses, APIClient) {
            let cluster = try ClusterProcesses(extraConfig: [
                "sources": ["allow": allow, "max_redirects": 3, "fetch_timeout_ms": 5000],
                "limits": ["max_source_bytes": 1_000_000],
            ])
            let server = try SourceServer(directory: cluster.directory, photo: photo)
            try cluster.startCoordinator(api: true)
            try cluster.startWorker("w1")
            try await cluster.waitForWorkers(1)
            return (server, cluster, APIClient(address: cluster.apiAddress, token: ClusterProcesses.acmeToken))
        }

        static func create(_ api: APIClient, _ url: String) async throws -> String {
            try await api.createUploadJob(
                pipeline: HTTPAPITests.pipeline, extra: ["source_type": "url", "source_url": url])
        }

        @Test("a url job's source is fetched when it starts, through three redirects, and the job runs")
        func fetched() async throws {
            let (server, cluster, api) = try await Self.start(allow: ["127.0.0.1"])
            defer { withExtendedLifetime(cluster) {} }
            let created = try await api.call(
                "POST", "/v1/jobs",
                json: [
                    "source_type": "url", "source_url": server.url("/redirect/2"), "pipeline": HTTPAPITests.pipeline,
                ])
            #expect(created.status == 201 && created.json["upload"] == nil, "nothing to upload: \(created.text)")
            let id = try #require(created.json["job_id"] as? String)
            let draft = try await api.call("GET", "/v1/jobs/\(id)")
            #expect(draft.json["source_url"] as? String == server.url("/redirect/2"))
            #expect(draft.json["source_type"] as? String == "url")
            let upload = try await api.call("PUT", "/v1/jobs/\(id)/source", body: Data([1, 2, 3]))
            #expect(upload.status == 409 && upload.errorCode == "conflict", "a url job takes no upload: \(upload.text)")
            let started = try await api.call("POST", "/v1/jobs/\(id)/start")
            #expect(started.status == 202, "\(started.text)")
            let job = try await api.waitUntilEnded(id)
            #expect(job["status"] as? String == "succeeded", "\(job)")
            #expect((job["source"] as? [String: Any])?["bytes"] as? Int == Self.photo.count)
        }

        @Test(
            "refused or failed fetches: each a typed error, the job still created: loopback not allowed, a redirect to a link-local address, too many redirects, 404, over the limit"
        )
        func refusals() async throws {
            let (server, cluster, api) = try await Self.start(allow: [])
            defer { withExtendedLifetime(cluster) {} }
            let cases: [(String, Int, String, String)] = [
                (server.url("/photo.jpg"), 400, "invalid_request", "not in sources.allow")
            ]
            for (url, status, code, message) in cases {
                let id = try await Self.create(api, url)
                let reply = try await api.call("POST", "/v1/jobs/\(id)/start")
                #expect(reply.status == status && reply.errorCode == code, "\(url): \(reply.text)")
                #expect(reply.errorMessage.contains(message), "\(url): \(reply.errorMessage)")
                #expect(try await api.call("GET", "/v1/jobs/\(id)").json["status"] as? String == "created")
            }
            let invalid = try await api.call(
                "POST", "/v1/jobs",
                json: ["source_type": "url", "source_url": "ftp://x/y.jpg", "pipeline": HTTPAPITests.pipeline])
            #expect(invalid.status == 400 && invalid.errorMessage.contains("http"), "\(invalid.text)")
        }

        @Test(
            "with loopback allowed: a redirect to a link-local address is refused at that hop, 4 redirects are too many, 404 is 502 source_unavailable, a source over the limit 413"
        )
        func hopByHop() async throws {
            let (server, cluster, api) = try await Self.start(allow: ["127.0.0.1"])
            defer { withExtendedLifetime(cluster) {} }
            let metadata = "http://169.254.169.254/latest/meta-data/"
            let cases: [(String, Int, String, String)] = [
                (server.url("/to?url=\(metadata)"), 400, "invalid_request", "169.254.169.254"),
                (server.url("/redirect/3"), 400, "invalid_request", "more than 3 redirects"),
                (server.url("/missing"), 502, "source_unavailable", "HTTP 404"),
                (server.url("/big"), 413, "source_too_large", "over the limit"),
                (server.url("/chunked-big"), 413, "source_too_large", "over the limit"),
            ]
            for (url, status, code, message) in cases {
                let id = try await Self.create(api, url)
                let reply = try await api.call("POST", "/v1/jobs/\(id)/start")
                #expect(reply.status == status && reply.errorCode == code, "\(url): \(reply.text)")
                #expect(reply.errorMessage.contains(message), "\(url): \(reply.errorMessage)")
                #expect(try await api.call("GET", "/v1/jobs/\(id)").json["status"] as? String == "created")
            }
            #expect(try await cluster.http("/healthz").contains("ok"))
        }
    }
}
