import Foundation
import Hummingbird
import NIOCore
import PixelFlowCoordinator
import PixelFlowPipeline
import PixelFlowProtocol
import PixelFlowStore

/// The `/v1` routes: thin translations between HTTP and the coordinator's draft and query calls, which hold the
/// logic (the same admission, limits and store as the binary protocol).
struct JobRoutes {
    let coordinator: Coordinator
    let maxJSONBytes: Int

    func add(to router: RouterGroup<APIRequestContext>) {
        router.post("jobs", use: create)
        router.get("jobs", use: list)
        router.get("jobs/{id}", use: show)
        router.delete("jobs/{id}", use: delete)
        router.post("jobs/{id}/start", use: start)
        router.put("jobs/{id}/source", use: upload)
        router.get("jobs/{id}/variants/{variant_id}", use: variant)
        router.get("usage", use: usage)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        try Self.requireJSON(request)
        var request = request
        let body = try CreateJobBody(json: try await collect(&request, upTo: maxJSONBytes, what: "the JSON body"))
        let draftRequest = Coordinator.DraftRequest(
            tenant: tenant, pipeline: body.pipeline, sourceType: body.sourceType, sourceURL: body.sourceURL,
            webhookURL: body.webhookURL, idempotencyKey: body.idempotencyKey, priority: body.priority)
        switch await coordinator.createDraft(draftRequest) {
        case .failure(let problem): throw APIError(problem)
        case .success(.draft(let draft, let isNew)):
            // A url job's source is fetched: there is nothing to upload.
            let presigned = coordinator.uploadURL(for: draft)
            let upload =
                draft.sourceType == .url
                ? nil
                : CreatedJSON.Upload(
                    url: presigned?.url ?? "\(Self.baseURL(of: request))/v1/jobs/\(draft.id)/source", method: "PUT",
                    expiresAt: JobJSON.time(presigned?.expiresAt ?? draft.expiresAt))
            let created = CreatedJSON(jobID: String(draft.id), status: "created", upload: upload)
            return try Self.json(created, status: isNew ? .created : .ok)
        case .success(.job(let job)):
            return try Self.json(CreatedJSON(jobID: String(job.id), status: job.state.description), status: .ok)
        }
    }

    @Sendable func upload(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let id = try Self.jobID(context)
        let limit = Int(clamping: coordinator.settings.limits.maxSourceBytes)
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError(
                .contentTooLarge, "source_too_large", "source of \(declared) bytes is over the limit of \(limit)")
        }
        var request = request
        let bytes = try await collect(&request, upTo: limit, what: "the source", code: "source_too_large")
        switch await coordinator.attachSource(bytes, to: id, tenant: tenant) {
        case .failure(let problem): throw APIError(problem)
        case .success(let source):
            let body = JobJSON.Source(bytes: source.size, sha256: Hex.encode(source.sha256))
            return try Self.json(UploadedJSON(jobID: String(id), status: "created", source: body))
        }
    }

    @Sendable func start(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let id = try Self.jobID(context)
        if case .failure(let problem) = await coordinator.startDraft(id, tenant: tenant) { throw APIError(problem) }
        return try Self.json(["job_id": String(id), "status": "queued"], status: .accepted)
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let id = try Self.jobID(context)
        switch await coordinator.lookupJob(id, tenant: tenant) {
        case .failure(let error): throw APIError(error)
        case .success(.draft(let draft)): return try Self.json(JobJSON(draft: draft))
        case .success(.job(let job, let variants)):
            return try Self.json(
                JobJSON(
                    job: job, variants: variants, baseURL: Self.baseURL(of: request), objectURL: coordinator.variantURL)
            )
        }
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let id = try Self.jobID(context)
        switch await coordinator.deleteJob(id, tenant: tenant) {
        case .failure(let problem): throw APIError(problem)
        case .success(let state): return try Self.json(["job_id": String(id), "status": state.description])
        }
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let query = request.uri.queryParameters
        let filter: Coordinator.ListFilter?
        switch query["state"].map(String.init) {
        case nil: filter = nil
        case "created": filter = .drafts
        case let name?:
            guard let state = JobStatus.State.allCases.first(where: { $0.description == name }) else {
                throw APIError(
                    .badRequest, "invalid_request",
                    "state '\(name)' is not one of created, queued, running, succeeded, failed, cancelled")
            }
            filter = .state(state)
        }
        let limit = try Self.integer(query["limit"], name: "limit", in: 1...500) ?? 50
        let cursor = try Self.integer(query["cursor"], name: "cursor", in: 1...UInt64(Int64.max)) ?? 0
        switch await coordinator.listJobs(tenant: tenant, filter: filter, beforeID: cursor, limit: Int(limit)) {
        case .failure(let error): throw APIError(error)
        case .success(let page):
            let base = Self.baseURL(of: request)
            let jobs = page.jobs.map { listed -> JobJSON in
                switch listed {
                case .draft(let draft): JobJSON(draft: draft)
                case .job(let job, let stored):
                    JobJSON(job: job, variants: nil, storedCount: stored, baseURL: base)
                }
            }
            let next = page.more ? page.jobs.last.map { String($0.id) } : nil
            return try Self.json(JobListJSON(jobs: jobs, nextCursor: next))
        }
    }

    @Sendable func variant(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let id = try Self.jobID(context)
        guard let variantID = context.parameters.get("variant_id") else {
            throw APIError(.notFound, "not_found", "no variant named")
        }
        switch await coordinator.variantBytes(job: id, variant: variantID, tenant: tenant) {
        case .failure(let error): throw APIError(error)
        case .success(.objectURL(let url)):
            // The bytes are in the object store: the client fetches them there, not through the coordinator.
            return Response(status: .temporaryRedirect, headers: [.location: url])
        case .success(.bytes(let variant, let bytes, let held)):
            defer { coordinator.releaseVariantBytes(held) }
            let headers: HTTPFields = [
                .contentType: Self.mediaType(of: variant.format),
                .eTag: "\"\(Hex.encode(variant.sha256))\"",
            ]
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: bytes))
        }
    }

    @Sendable func usage(_ request: Request, context: APIRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let now = UInt64(Date().timeIntervalSince1970)
        let since: UInt64
        switch request.uri.queryParameters["since"].map(String.init) {
        case nil: since = now - min(now, 24 * 3600)
        case let text?:
            guard let parsed = UsageSince.seconds(text, now: now) else {
                throw APIError(
                    .badRequest, "invalid_request",
                    "since '\(text)' is neither a duration (90m, 24h, 7d) nor an RFC 3339 time nor Unix seconds")
            }
            since = parsed
        }
        switch await coordinator.usage(since: since, tenant: tenant) {
        case .failure(let error): throw APIError(error)
        case .success(let buckets):
            var totals: [String: UsageCounts] = [:]
            for bucket in buckets { totals[bucket.tenant, default: UsageCounts()].add(bucket.counts) }
            let body = UsageJSON(
                since: JobJSON.time(Int64(since) * 1000),
                buckets: buckets.map { UsageJSON.Row(tenant: $0.tenant, hour: $0.hour, $0.counts) },
                totals: totals.sorted { $0.key < $1.key }.map { UsageJSON.Row(tenant: $0.key, hour: nil, $0.value) })
            return try Self.json(body)
        }
    }

    // MARK: Helpers

    /// The body, at most `limit` bytes: past it, 413 with `code` — never a larger buffer.
    private func collect(
        _ request: inout Request, upTo limit: Int, what: String, code: String = "request_too_large"
    ) async throws -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, code, "\(what) is over the limit of \(limit) bytes")
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code, "\(what) is over the limit of \(limit) bytes")
        }
    }

    static func requireJSON(_ request: Request) throws {
        let type = request.headers[.contentType]?.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        guard type == "application/json" else {
            throw APIError(
                .unsupportedMediaType, "unsupported_media_type", "the body must be application/json")
        }
    }

    static func jobID(_ context: APIRequestContext) throws -> UInt64 {
        guard let text = context.parameters.get("id"), let id = UInt64(text), id > 0 else {
            throw APIError(.notFound, "not_found", "job ids are positive integers")
        }
        return id
    }

    static func integer(
        _ value: Substring?, name: String, in range: ClosedRange<UInt64>
    ) throws -> UInt64? {
        guard let value else { return nil }
        guard let number = UInt64(value), range.contains(number) else {
            throw APIError(
                .badRequest, "invalid_request",
                "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// http://host[:port] the client reached us at (the Host header), for URLs in answers.
    static func baseURL(of request: Request) -> String {
        "http://\(request.head.authority ?? "localhost")"
    }

    static func mediaType(of format: String) -> String {
        OutputFormat(name: format)?.mediaType ?? "application/octet-stream"
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(data: data)))
    }
}
