import Foundation
import PixelFlowPipeline
import Testing

@testable import PixelFlowImaging

extension ImagingTests {
    /// libvips' counters are process-wide and other suites in this test process use libvips too, so the batch
    /// runs in a child process of its own (`pixelflow-bench imaging leaks`) and the test checks its numbers.
    @Suite struct LeakTests {
        static var benchBinary: URL {
            ProcessCommandTests.binary.deletingLastPathComponent().appendingPathComponent("pixelflow-bench")
        }

        @Test func batchReturnsToBaselineAndBombsAllocateNothing() throws {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "pixelflow-leaks-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let good = Fixtures.encode(Fixtures.noise(width: 300, height: 200), as: .jpeg)
            let files = [
                ("good.jpg", good),
                ("good.png", Fixtures.encode(Fixtures.quadrants(width: 200, height: 120), as: .png)),
                ("truncated.jpg", Array(good.prefix(good.count / 2))), ("text.jpg", Array("not an image".utf8)),
            ]
            for (name, bytes) in files { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
            let bomb = folder.appendingPathComponent("bomb.png")
            try Data(PNGBytes.declaring(width: 65535, height: 65535)).write(to: bomb)

            let process = Process()
            process.executableURL = Self.benchBinary
            process.arguments =
                ["imaging", "leaks", "--bomb", bomb.path, "--jobs", "24"]
                + files.map { folder.appendingPathComponent($0.0).path }
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])

            #expect(report["bomb_code"] as? String == "image_too_large")
            #expect((report["bomb_high_water"] as? Int ?? .max) < 1_000_000, "the bomb's pixels were never allocated")
            #expect(report["failures"] as? Int == 12, "half the sources fail, the batch goes on")
            // A second full batch leaves libvips holding no more objects or memory than the first one did.
            let objectsBefore = try #require(report["objects_before"] as? Int)
            let memoryBefore = try #require(report["memory_before"] as? Int)
            #expect(try #require(report["objects_after"] as? Int) <= objectsBefore)
            #expect(try #require(report["memory_after"] as? Int) <= memoryBefore)
        }
    }
}
