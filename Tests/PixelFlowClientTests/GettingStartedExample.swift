// swift-format-ignore-file
// (its example is quoted verbatim in the documentation, which a test checks)
// The code of Sources/PixelFlowClient/PixelFlowClient.docc/GettingStarted.md, compiled here and run against the fake
// coordinator by GettingStartedTests, which also checks that every code block of the article is quoted from here.
// --- GettingStarted.md code starts here ---
import PixelFlowClient

func describeCluster(host: String, port: Int, keyID: String, secret: String) async throws -> String {
    try await PixelFlowClient.withConnection(to: host, port: port, keyID: keyID, secret: secret) { client in
        let workers = try await client.workers()
        return "\(client.serverName): \(workers.count) workers, up to \(client.limits.maxInFlight) requests at once"
    }
}

func makeVariants(of source: [UInt8], with client: PixelFlowClient) async throws -> [String: [UInt8]] {
    let thumb = #"{"id":"thumb","action":"resize","width":150,"format":"webp"}"#
    let large = #"{"id":"large","action":"resize","width":1200,"format":"jpeg","quality":85}"#
    var files: [String: [UInt8]] = [:]
    for try await event in client.process(source: source, pipeline: "[\(thumb),\(large)]") {
        switch event {
        case .accepted(let job, _):
            print("job \(job) admitted")
        case .variant(let variant):  // each one as soon as it is encoded
            files["\(variant.id).\(variant.format)"] = variant.bytes
        case .completed(let outcome):
            print("\(outcome.variants) variants in \(outcome.elapsedMilliseconds) ms")
        }
    }
    return files
}

func submitAndWait(_ source: [UInt8], pipeline: String, with client: PixelFlowClient) async throws -> JobOutcome {
    let job = try await client.submit(source: source, pipeline: pipeline, idempotencyKey: "order-42")
    let status = try await client.status(job)
    print("job \(job) is \(status.state), \(status.variantsDone) variants done")
    return try await client.wait(job)  // throws the job's failure if it fails
}

func processRetrying(_ source: [UInt8], pipeline: String, with client: PixelFlowClient) async throws -> JobOutcome? {
    var retries = 0
    while true {
        do throws(PixelFlowClientError) {
            for try await event in client.process(source: source, pipeline: pipeline) {
                if case .completed(let outcome) = event { return outcome }
            }
            return nil
        } catch {
            switch error.code {
            case .rejected where retries < 5:
                retries += 1
                try await Task.sleep(for: error.retryAfter ?? .milliseconds(100))
            case .invalidPipeline:
                print("fix the pipeline: \(error.message)")  // the message names the field
                return nil
            default:
                throw error
            }
        }
    }
}
// --- GettingStarted.md code ends here ---
