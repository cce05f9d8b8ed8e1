import Foundation
import PixelFlowClient
import Testing

/// The Getting Started article's code (GettingStartedExample.swift), run against the fake coordinator.
@Suite(.timeLimit(.minutes(1)))
struct GettingStartedTests {
    static let article = "Sources/PixelFlowClient/PixelFlowClient.docc/GettingStarted.md"

    static func withClient<Result: Sendable>(
        script: @escaping @Sendable (Int) -> FakeScript = { _ in .succeed() },
        _ body: (PixelFlowClient, FakeCoordinator) async throws -> Result
    ) async throws -> Result {
        try await FakeCoordinator.run(script: script) { fake in
            try await ClientConnectionTests.connect(fake) { client in try await body(client, fake) }
        }
    }

    @Test func articleQuotesTheExampleVerbatim() throws {
        let source = try DocumentedCode.text("Tests/PixelFlowClientTests/GettingStartedExample.swift")
        let code = try #require(
            DocumentedCode.region(
                of: source, between: "GettingStarted.md code starts here", and: "GettingStarted.md code ends here"))
        let blocks = DocumentedCode.swiftBlocks(in: try DocumentedCode.text(Self.article))
        #expect(blocks.count == 4, "connect, process, submit and wait, errors")
        for block in blocks {
            #expect(code.contains(block), "not in GettingStartedExample.swift:\n\(block)")
        }
    }

    @Test func connectDescribesTheCluster() async throws {
        try await FakeCoordinator.run(script: { _ in .succeed() }) { fake in
            let text = try await describeCluster(
                host: "127.0.0.1", port: fake.port, keyID: FakeCoordinator.keyID, secret: FakeCoordinator.secret)
            #expect(text.hasSuffix(": 2 workers, up to 256 requests at once"), "\(text)")
        }
    }

    @Test func processStreamsEveryVariant() async throws {
        let source = ClientConnectionTests.randomSource(40_000)
        let files = try await Self.withClient { client, _ in try await makeVariants(of: source, with: client) }
        // The fake answers any pipeline with an "echo" PNG (the source itself) and a "pattern" WebP.
        #expect(files.keys.sorted() == ["echo.png", "pattern.webp"])
        #expect(files["echo.png"] == source)
    }

    @Test func submitThenWaitReturnsTheOutcome() async throws {
        let outcome = try await Self.withClient { client, _ in
            try await submitAndWait([1, 2, 3], pipeline: ClientConnectionTests.pipeline, with: client)
        }
        #expect(outcome.variants == 2 && outcome.attempts == 1 && outcome.jobID.rawValue % 10 == 0)
    }

    @Test func rejectionsAreRetriedAfterTheirDelay() async throws {
        let (outcome, submits) = try await Self.withClient(script: { index in
            index < 2 ? .reject(.rateLimited, retryAfterMilliseconds: 20, message: "slow down") : .succeed()
        }) { client, fake in
            (
                try await processRetrying([1, 2, 3], pipeline: ClientConnectionTests.pipeline, with: client),
                fake.seen.submits
            )
        }
        #expect(outcome?.variants == 2)
        #expect(submits == 3)
    }

    @Test func retriesGiveUpAfterFive() async throws {
        let (error, submits) = try await Self.withClient(script: { _ in
            .reject(.queueFull, retryAfterMilliseconds: 1, message: "full")
        }) { client, fake in
            let error = await #expect(throws: PixelFlowClientError.self) {
                _ = try await processRetrying([1], pipeline: ClientConnectionTests.pipeline, with: client)
            }
            return (error, fake.seen.submits)
        }
        #expect(error?.rejectionReason == .queueFull)
        #expect(submits == 6)
    }

    @Test func invalidPipelineIsReportedAndOtherFailuresThrown() async throws {
        let invalid = try await Self.withClient(script: { _ in
            .reject(.invalidPipeline, retryAfterMilliseconds: 0, message: "pipeline[0].width: must be 1...16384")
        }) { client, _ in
            try await processRetrying([1], pipeline: ClientConnectionTests.pipeline, with: client)
        }
        #expect(invalid == nil)

        let failed = try await Self.withClient(script: { _ in .fail(.undecodableImage, message: "not an image") }) {
            client, _ in
            await #expect(throws: PixelFlowClientError.self) {
                _ = try await processRetrying([1], pipeline: ClientConnectionTests.pipeline, with: client)
            }
        }
        #expect(failed?.code == .undecodableImage)
    }
}
