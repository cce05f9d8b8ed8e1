// swift-format-ignore-file
// (its example is quoted verbatim in the documentation, which a test checks)
import Foundation
import PixelFlowClient
import Testing

/// The README's client example, compiled and run against the fake coordinator so the documentation cannot rot.
@Suite(.timeLimit(.minutes(1)))
struct ReadmeExampleTests {
    // --- README example starts here (docs/client.md) ---
    static func makeThumbnails(of file: URL, into folder: URL, host: String, port: Int, keyID: String, secret: String) async throws {
        let source = Array(try Data(contentsOf: file))
        let pipeline = #"[{"id":"thumb","action":"resize","width":150,"format":"webp","quality":80},"#
            + #"{"id":"medium","action":"resize","width":800,"format":"jpeg"}]"#

        try await PixelFlowClient.withConnection(to: host, port: port, keyID: keyID, secret: secret) { client in
            do {
                for try await event in client.process(source: source, pipeline: pipeline) {
                    switch event {
                    case .accepted(let job, _):
                        print("job \(job) admitted")
                    case .variant(let variant):  // each one as soon as it is encoded
                        let file = folder.appendingPathComponent("\(variant.id).\(variant.format)")
                        try Data(variant.bytes).write(to: file)
                        print("\(variant.id): \(variant.width)x\(variant.height) \(variant.format), \(variant.bytes.count) bytes")
                    case .completed(let done):
                        print("done: \(done.variants) variants in \(done.elapsedMilliseconds) ms")
                    }
                }
            } catch let error as PixelFlowClientError {
                switch error.code {
                case .rejected: print("busy, retry in \(error.retryAfter ?? .seconds(1))")
                case .invalidPipeline: print("bad pipeline: \(error.message)")  // the message names the field
                default: throw error
                }
            }
        }
    }
    // --- README example ends here ---

    @Test func readmeExampleWritesTheVariants() async throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("pixelflow-readme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("photo.jpg")
        let bytes = ClientConnectionTests.randomSource(70_000)
        try Data(bytes).write(to: source)

        try await FakeCoordinator.run(script: { _ in .succeed() }) { fake in
            try await Self.makeThumbnails(of: source, into: folder, fake: fake)
        }
        // The fake answers with an "echo" PNG (the source itself) and a "pattern" WebP.
        #expect(FileManager.default.contents(atPath: folder.appendingPathComponent("echo.png").path) == Data(bytes))
        #expect(FileManager.default.contents(atPath: folder.appendingPathComponent("pattern.webp").path)?.count == 5_000)
    }

    @Test func readmeExampleHandlesARejection() async throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("pixelflow-readme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("photo.jpg")
        try Data([1, 2, 3]).write(to: source)

        let script: @Sendable (Int) -> FakeScript = { _ in
            .reject(.queueFull, retryAfterMilliseconds: 50, message: "full")
        }
        try await FakeCoordinator.run(script: script) { fake in
            // A rejection is handled (printed), not thrown.
            try await Self.makeThumbnails(of: source, into: folder, fake: fake)
        }
        let failing: @Sendable (Int) -> FakeScript = { _ in .fail(.undecodableImage, message: "not an image") }
        let error = try await FakeCoordinator.run(script: failing) { fake in
            await #expect(throws: PixelFlowClientError.self) {
                try await Self.makeThumbnails(of: source, into: folder, fake: fake)
            }
        }
        #expect(error?.code == .undecodableImage, "other failures are thrown")
    }

    static func makeThumbnails(of file: URL, into folder: URL, fake: FakeCoordinator) async throws {
        try await makeThumbnails(
            of: file, into: folder, host: "127.0.0.1", port: fake.port, keyID: FakeCoordinator.keyID,
            secret: FakeCoordinator.secret)
    }

    /// README.md and docs/client.md quote the example above: imports, then the function at top level.
    @Test(arguments: ["README.md", "docs/client.md"])
    func documentsQuoteTheExampleVerbatim(_ document: String) throws {
        let test = try DocumentedCode.text("Tests/PixelFlowClientTests/ReadmeExampleTests.swift")
        let example = try #require(
            DocumentedCode.region(of: test, between: "README example starts here", and: "README example ends here"))
        let topLevel = example.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("    ") ? String($0.dropFirst(4)) : String($0) }
            .joined(separator: "\n")
            .replacingOccurrences(of: "static func makeThumbnails", with: "func makeThumbnails")
        let quoted = DocumentedCode.swiftBlocks(in: try DocumentedCode.text(document))
            .filter { $0.contains("func makeThumbnails") }
        #expect(quoted == ["import Foundation\nimport PixelFlowClient\n\n" + topLevel])
    }
}
