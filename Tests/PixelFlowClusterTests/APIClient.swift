import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Plain HTTP calls to the coordinator's HTTP API, as a curl user would make them.
struct APIClient: Sendable {
    struct Reply: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var errorMessage: String { (json["error"] as? [String: Any])?["message"] as? String ?? "" }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    var address: String
    var token: String?

    func call(
        _ method: String, _ path: String, json: Any? = nil, body: Data? = nil, contentType: String? = nil,
        headers: [String: String] = [:], followRedirects: Bool = true
    ) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://\(address)\(path)")!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue(contentType ?? "application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
            request.setValue(contentType ?? "application/octet-stream", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let session = followRedirects ? URLSession.shared : Self.noRedirects
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            fields[String(describing: name).lowercased()] = String(describing: value)
        }
        return Reply(status: http.statusCode, headers: fields, body: data)
    }

    /// Answers a redirect itself instead of following it.
    static let noRedirects = URLSession(configuration: .ephemeral, delegate: RedirectRefuser(), delegateQueue: nil)

    /// POST /v1/jobs with `source_type: upload`; the new job's id.
    func createUploadJob(pipeline: Any, extra: [String: Any] = [:]) async throws -> String {
        var body: [String: Any] = ["source_type": "upload", "pipeline": pipeline]
        for (key, value) in extra { body[key] = value }
        let reply = try await call("POST", "/v1/jobs", json: body)
        guard reply.status == 201, let id = reply.json["job_id"] as? String else {
            throw ClusterProcesses.Failure("create: \(reply.status) \(reply.text)")
        }
        return id
    }

    /// Polls GET /v1/jobs/{id} until the job has ended.
    func waitUntilEnded(_ id: String, timeout: Duration = .seconds(30)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let job = try await call("GET", "/v1/jobs/\(id)").json
            if let status = job["status"] as? String, ["succeeded", "failed", "cancelled"].contains(status) {
                return job
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ClusterProcesses.Failure("job \(id) did not end within \(timeout)")
    }
}

final class RedirectRefuser: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
