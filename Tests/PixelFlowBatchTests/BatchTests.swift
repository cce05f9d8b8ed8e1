import Foundation
import PixelFlowBatch
import PixelFlowPipeline
import Testing

@Suite struct BatchInputsTests {
    static func workspace(_ files: [String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pixelflow-batch-\(UUID().uuidString)")
        for file in files {
            let url = root.appendingPathComponent(file)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("x".utf8).write(to: url)
        }
        return root
    }

    @Test func directoriesAreSearchedAndStemsKeptApart() throws {
        let root = try Self.workspace(["in/a.jpg", "in/sub/a.png", "in/b.WEBP", "in/notes.txt", "other/c.heic"])
        defer { try? FileManager.default.removeItem(at: root) }
        let out = URL(fileURLWithPath: "/tmp/out")
        let sources = try BatchInputs.sources(
            [root.appendingPathComponent("in").path, root.appendingPathComponent("other/c.heic").path], outputRoot: out)
        #expect(
            sources.map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["a.jpg", "b.WEBP", "a.png", "c.heic"])
        #expect(sources.map(\.outputFolder.lastPathComponent) == ["a", "b", "a-2", "c"])
        #expect(sources[2].outputURL(variantID: "thumb", fileExtension: "webp").path == "/tmp/out/a-2/thumb.webp")
    }

    @Test func missingInputsAreUsageErrors() throws {
        let root = try Self.workspace(["empty/notes.txt"])
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(throws: BatchUsageError.self) { try BatchInputs.sources(["/nonexistent/x.jpg"], outputRoot: root) }
        let error = #expect(throws: BatchUsageError.self) {
            try BatchInputs.sources([root.appendingPathComponent("empty").path], outputRoot: root)
        }
        #expect(error?.message.contains("no image files") == true)
    }

    @Test func pipelineComesFromOneSource() throws {
        #expect(try BatchInputs.pipeline(file: nil, compact: []) == .canonical)
        let compact = try BatchInputs.pipeline(file: nil, compact: ["thumb:resize:150:webp:q=80"])
        #expect(compact.variants.map(\.id) == ["thumb"])
        #expect(throws: BatchUsageError.self) {
            try BatchInputs.pipeline(file: "/dev/null", compact: ["a:resize:10:png"])
        }
        let invalid = #expect(throws: BatchUsageError.self) {
            try BatchInputs.pipeline(file: nil, compact: ["a:resize:0:png"])
        }
        #expect(invalid?.message.contains("--variant[0].width") == true)
    }

    @Test func wireJSONRoundTrips() throws {
        let pipelines = [
            Pipeline.canonical,
            try BatchInputs.pipeline(
                file: nil,
                compact: [
                    "sq:cover:300x300:avif:gravity=attention:effort=2",
                    "face:crop:-:png:crop=10,20,300,200",
                    "big:resize:2000:jpeg:progressive:enlarge:strip=false:background=#ff8000:rotate=90:flip:blur=1.5:sharpen",
                    "lossy:contain:64x64:webp:lossless:flop",
                ]),
        ]
        for pipeline in pipelines {
            let json = pipeline.wireJSON
            #expect(json.hasPrefix("[{\"id\":"))
            #expect(try PipelineDecoder.decode(wire: Data(json.utf8)) == pipeline, "\(json)")
        }
    }
}

@Suite struct BatchOutputTests {
    static let variant = SourceResult.Variant(
        id: "thumb", path: "out/a/thumb.webp", width: 150, height: 100, format: "webp", bytes: 4_321,
        milliseconds: 12.34)

    @Test func jsonLineKeepsTheDocumentedShape() throws {
        let ok = SourceResult(source: "in/a.jpg", bytesIn: 10, variants: [Self.variant], failure: nil)
        #expect(
            BatchJSONLine.render(ok)
                == #"{"source":"in/a.jpg","ok":true,"variants":[{"id":"thumb","path":"out/a/thumb.webp","width":150,"height":100,"format":"webp","bytes":4321,"ms":12.3}],"error":null}"#
        )

        let failed = SourceResult(
            source: "in/\"b\".jpg", bytesIn: 3, variants: [],
            failure: .init(code: "rate_limited", message: "tenant over\nits rate"))
        let line = BatchJSONLine.render(failed)
        #expect(
            line
                == #"{"source":"in/\"b\".jpg","ok":false,"variants":[],"error":{"code":"rate_limited","message":"tenant over\nits rate"}}"#
        )
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(parsed["source"] as? String == "in/\"b\".jpg")
        #expect((parsed["error"] as? [String: Any])?["code"] as? String == "rate_limited")
    }

    @Test func summaryCountsAndExitStatus() {
        var summary = BatchSummary(reportsRetries: true)
        summary.add(
            SourceResult(
                source: "a.jpg", bytesIn: 2_048, variants: [Self.variant, Self.variant], failure: nil, retries: 2))
        summary.add(
            SourceResult(
                source: "b.jpg", bytesIn: 10, variants: [],
                failure: .init(code: "undecodable_image", message: "not an image"), retries: 1))
        summary.elapsed = .seconds(2)
        let text = summary.text
        #expect(
            text.hasPrefix(
                "2 images (2 variants) in 2.00 s, 1.00 images/s; 2.0 KiB in, 8.4 KiB out; 1 failed; 3 retries after rate limiting\n"
            ))
        #expect(text.contains("  failed: b.jpg: undecodable_image: not an image\n"))
        #expect(BatchExitStatus.of(summary) == 1)

        var clean = BatchSummary()
        clean.add(SourceResult(source: "a.jpg", bytesIn: 1, variants: [Self.variant], failure: nil))
        #expect(BatchExitStatus.of(clean) == 0)
        #expect(!clean.text.contains("retr"), "pixelflow process prints no retry count")
    }

    @Test func variantFilesFollowTheLayout() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pixelflow-batch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let source = BatchSource(path: "in/photo.jpg", outputFolder: root.appendingPathComponent("photo"))
        try VariantFiles.prepare(source)
        let path = try VariantFiles.write([1, 2, 3], for: source, variantID: "thumb", fileExtension: "webp")
        #expect(path == root.appendingPathComponent("photo/thumb.webp").path)
        #expect(FileManager.default.contents(atPath: path) == Data([1, 2, 3]))
    }

    @Test func runnerKeepsConcurrencyAndReportsEverySource() async {
        let sources = (0..<12).map { BatchSource(path: "s\($0).jpg", outputFolder: URL(fileURLWithPath: "/tmp/none")) }
        let gauge = Gauge()
        let summary = await BatchRunner(sources: sources, concurrency: 3, json: false, reportsRetries: true).run {
            source in
            await gauge.enter()
            try? await Task.sleep(for: .milliseconds(5))
            await gauge.leave()
            let failed = source.path == "s4.jpg"
            return SourceResult(
                source: source.path, bytesIn: 1, variants: [],
                failure: failed ? .init(code: "io_error", message: "x") : nil, retries: 1)
        }
        #expect(summary.images == 12 && summary.retries == 12 && summary.failures.count == 1)
        let peak = await gauge.peak
        #expect(peak <= 3 && peak >= 2)
    }
}

actor Gauge {
    private(set) var peak = 0
    private var current = 0
    func enter() { current += 1; peak = max(peak, current) }
    func leave() { current -= 1 }
}
