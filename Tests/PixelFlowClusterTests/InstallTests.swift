import Foundation
import PixelFlowCoordinator
import Testing

extension LiveCluster {
    /// deploy/install.sh into a temporary prefix, and the installed coordinator started on its sample config.
    @Suite("deploy/install.sh", .serialized)
    struct InstallTests {
        static func install(_ prefix: URL) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [
                ToolServer.repository.appendingPathComponent("deploy/install.sh").path, prefix.path,
                ClusterProcesses.binary.deletingLastPathComponent().path,
            ]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }

        @Test(
            "binaries, units pointing at them, a sample config the coordinator starts with (kept on reinstall), the dashboard"
        )
        func installIntoPrefix() throws {
            let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("pixelflow-prefix-\(UUID())")
            defer { try? FileManager.default.removeItem(at: prefix) }
            let first = try Self.install(prefix)
            #expect(first.status == 0, "\(first.output)")
            for binary in ["bin/pixelflow", "bin/pfctl"] {
                #expect(FileManager.default.isExecutableFile(atPath: prefix.appendingPathComponent(binary).path))
            }
            let unit = try String(
                contentsOf: prefix.appendingPathComponent("lib/systemd/system/pixelflow-coordinator.service"),
                encoding: .utf8)
            #expect(
                unit.contains(
                    "ExecStart=\(prefix.path)/bin/pixelflow coordinator --config \(prefix.path)/etc/pixelflow/coordinator.json"
                ))
            #expect(
                FileManager.default.fileExists(
                    atPath: prefix.appendingPathComponent("share/pixelflow/grafana/pixelflow.json").path))

            let configFile = prefix.appendingPathComponent("etc/pixelflow/coordinator.json")
            let config = try Data(contentsOf: configFile)
            let mode = try FileManager.default.attributesOfItem(atPath: configFile.path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "it holds secrets")
            let parsed = try CoordinatorConfig(json: config, environment: [:])
            #expect(parsed.joinSecret != nil && parsed.tenants.count == 1)

            // Installing again keeps the configuration as edited.
            try Data("{\"edited\": true}".utf8).write(to: configFile)
            let second = try Self.install(prefix)
            #expect(second.status == 0 && second.output.contains("kept"))
            #expect(try Data(contentsOf: configFile) == Data("{\"edited\": true}".utf8))
            try config.write(to: configFile)

            // The installed coordinator starts on the sample configuration.
            let coordinator = Process()
            coordinator.executableURL = prefix.appendingPathComponent("bin/pixelflow")
            coordinator.arguments = [
                "coordinator", "--config", configFile.path, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0",
                "--data", prefix.appendingPathComponent("data").path,
            ]
            let output = Pipe()
            coordinator.standardOutput = output
            coordinator.standardError = FileHandle.nullDevice
            try coordinator.run()
            defer {
                kill(coordinator.processIdentifier, SIGKILL)
                coordinator.waitUntilExit()
            }
            let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            #expect(line.contains("pixelflow coordinator listening on 127.0.0.1:"), "\(line)")
        }
    }
}
