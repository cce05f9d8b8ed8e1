import Foundation
import Testing

@testable import PixelFlowImaging

extension ImagingTests {
    /// Runs the built `pixelflow process` binary as a child process, as a user would.
    @Suite struct ProcessCommandTests {
        /// The binary sits beside the test bundle in the build directory.
        static var binary: URL {
            let beside = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("pixelflow")
            if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
            let fromSource = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/pixelflow")
            return fromSource
        }

        struct Run {
            let status: Int32
            let stdout: String
            let stderr: String
            var lines: [[String: Any]] {
                stdout.split(separator: "\n").compactMap {
                    try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
                }
            }
        }

        static func run(_ arguments: [String]) throws -> Run {
            let process = Process()
            process.executableURL = binary
            process.arguments = ["process"] + arguments
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Run(
                status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                stderr: String(decoding: stderr, as: UTF8.self))
        }

        static func workspace() throws -> URL {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "pixelflow-process-\(UUID().uuidString)")
            let inputs = root.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            try Data(Fixtures.encode(Fixtures.noise(width: 120, height: 80), as: .jpeg)).write(
                to: inputs.appendingPathComponent("photo.jpg"))
            try Data(Fixtures.encode(Fixtures.quadrants(width: 60, height: 60), as: .png)).write(
                to: inputs.appendingPathComponent("art.png"))
            return root
        }

        @Test func binaryExists() {
            #expect(
                FileManager.default.isExecutableFile(atPath: Self.binary.path),
                "build the package first: \(Self.binary.path)")
        }

        @Test func writesVariantsAndJSONLines() throws {
            let root = try Self.workspace()
            defer { try? FileManager.default.removeItem(at: root) }
            let inputs = root.appendingPathComponent("in")
            try Data("not an image".utf8).write(to: inputs.appendingPathComponent("broken.jpg"))
            try Data("ignored: not an image extension".utf8).write(to: inputs.appendingPathComponent("notes.txt"))
            let out = root.appendingPathComponent("out")

            let result = try Self.run([
                "--json", "-o", out.path, "--threads", "2",
                "--variant", "small:resize:32:png", "--variant", "sq:cover:16x16:webp:q=70", inputs.path,
            ])
            #expect(result.status == 1, "one source fails: \(result.stderr)")
            let lines = result.lines
            #expect(lines.count == 3)
            let bySource = Dictionary(
                uniqueKeysWithValues: lines.map {
                    (URL(fileURLWithPath: $0["source"] as! String).lastPathComponent, $0)
                })

            let photo = try #require(bySource["photo.jpg"])
            #expect(photo["ok"] as? Bool == true)
            #expect(photo["error"] is NSNull)
            let variants = try #require(photo["variants"] as? [[String: Any]])
            #expect(variants.map { $0["id"] as? String } == ["small", "sq"])
            for item in variants {
                let path = try #require(item["path"] as? String)
                let bytes = try #require(item["bytes"] as? Int)
                #expect(path.hasPrefix(out.appendingPathComponent("photo").path))
                let attributes = try FileManager.default.attributesOfItem(atPath: path)
                #expect((attributes[.size] as? Int) == bytes)
                #expect(item["ms"] is Double || item["ms"] is Int)
            }
            #expect(
                variants[0]["width"] as? Int == 32 && variants[0]["height"] as? Int == 21
                    && variants[0]["format"] as? String == "png")
            #expect(
                variants[1]["width"] as? Int == 16 && variants[1]["height"] as? Int == 16
                    && variants[1]["format"] as? String == "webp")
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("art/sq.webp").path))

            let broken = try #require(bySource["broken.jpg"])
            #expect(broken["ok"] as? Bool == false)
            let error = try #require(broken["error"] as? [String: Any])
            #expect(error["code"] as? String == "unsupported_format")
            #expect(result.stderr.contains("3 images") && result.stderr.contains("1 failed"))
        }

        @Test func allGoodExitsZeroWithTheJobJSON() throws {
            let root = try Self.workspace()
            defer { try? FileManager.default.removeItem(at: root) }
            let job = root.appendingPathComponent("job.json")
            try Data(
                #"{"source_type":"inline","pipeline":[{"id":"thumb_small","action":"resize","width":40,"format":"webp","quality":80}]}"#
                    .utf8
            ).write(to: job)
            let out = root.appendingPathComponent("out")
            let result = try Self.run([
                "--pipeline", job.path, "-o", out.path, root.appendingPathComponent("in/photo.jpg").path,
            ])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("1 images") && result.stdout.contains("0 failed"))
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("photo/thumb_small.webp").path))
        }

        @Test(arguments: [
            ["--variant", "a:resize:10:png", "--pipeline", "/dev/null", "x.jpg"],
            ["--variant", "a:resize:0:png", "x.jpg"],
            ["--variant", "a:resize:10:png"],
            ["--variant", "a:resize:10:png", "/nonexistent/input.jpg"],
            ["--no-such-flag"],
            ["--threads", "0", "x.jpg"],
        ])
        func usageErrorsExitTwo(arguments: [String]) throws {
            let result = try Self.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(!result.stderr.isEmpty)
        }
    }
}
