import Foundation

/// One of the repository's tools/*.py servers as a child process: it picks a free loopback port and writes it to
/// the file `--port-file` names; stopped by its PID when this value goes.
final class ToolServer: @unchecked Sendable {
    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    let process = Process()
    let port: Int

    /// Runs `tools/<script>` with `arguments` and `--port-file`, and waits up to 10 s for its port.
    init(_ script: String, arguments: [String], directory: URL) throws {
        let portFile = directory.appendingPathComponent("port-\(UUID().uuidString)")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", Self.repository.appendingPathComponent("tools/\(script)").path, "--port-file", portFile.path]
            + arguments
        try process.run()
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text) {
                self.port = port
                return
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.terminate()
        throw ClusterProcesses.Failure("tools/\(script) did not start")
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
