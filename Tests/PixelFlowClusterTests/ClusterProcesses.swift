import Crypto
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Real `pixelflow` processes on loopback ports: a coordinator and workers, started from a generated config
/// and stopped by their PIDs when the test ends.
final class ClusterProcesses: @unchecked Sendable {
    static let tenantSecret = "tenant-secret-0123456789"
    static let otherSecret = "other-secret-0123456789ab"
    static let joinSecret = "join-secret-0123456789abcd"
    /// HTTP API bearer tokens of "acme" and "other" (the config holds their SHA-256).
    static let acmeToken = "acme-api-token-0123456789"
    static let otherToken = "other-api-token-0123456789"

    static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    let directory: URL
    let configPath: String
    private(set) var coordinator: Process?
    private(set) var workers: [String: Process] = [:]
    private(set) var protocolAddress = ""
    private(set) var httpAddress = ""
    /// host:port of the HTTP API, once a coordinator started with `api: true` announced it.
    private(set) var apiAddress = ""
    /// Set in every process started (names starting PIXELFLOW_ are otherwise kept from them).
    var environment: [String: String] = [:]

    static var binary: URL {
        let beside = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("pixelflow")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/pixelflow")
    }

    /// `tenants` entries are merged over the default tenant "acme" (rate 1000/s) and "other".
    init(extraConfig: [String: Any] = [:], tenants: [[String: Any]]? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "pixelflow-cluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var config: [String: Any] = [
            "join": ["key_id": "worker", "secret": Self.joinSecret],
            "tenants": tenants ?? [
                [
                    "key_id": "acme", "secret": Self.tenantSecret, "rate": 1000, "burst": 1000, "max_queued": 10_000,
                    "admin": true, "api_token_sha256": Self.sha256Hex(Self.acmeToken),
                ],
                [
                    "key_id": "other", "secret": Self.otherSecret, "rate": 1000, "burst": 1000,
                    "api_token_sha256": Self.sha256Hex(Self.otherToken),
                ],
            ],
            "workers": ["lease_ms": 3000, "heartbeat_interval_ms": 300],
            "jobs": ["retry_backoff_ms": 50, "max_attempts": 5],
        ]
        for (key, value) in extraConfig { config[key] = value }
        configPath = directory.appendingPathComponent("coordinator.json").path
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
    }

    /// Changes the config file before the coordinator starts (for values that name files in `directory`).
    func updateConfig(_ change: (inout [String: Any]) -> Void) throws {
        let url = URL(fileURLWithPath: configPath)
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
        change(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: url)
    }

    deinit {
        stopAll()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The coordinator's job store: kept across `restartCoordinatorAfterKill`, removed with the directory.
    var dataPath: String { directory.appendingPathComponent("data").path }

    /// How the coordinator's data directory looks to it: as it is, or in a mount namespace of its own (root
    /// needed) as a small tmpfs (a disk that fills up) or mounted read-only.
    enum DataMount {
        case plain
        case tmpfs(megabytes: Int)
        case readOnly
    }

    /// Starts the coordinator on free ports (or `listen`) and reads them from the line that announces them.
    /// `fileSizeLimitKiB`: started under `ulimit -f`, so writes past that size fail with EFBIG.
    /// `api`: serve the HTTP API too, on a free port (or the one it had, after a restart).
    func startCoordinator(
        listen: String = "127.0.0.1:0", extra: [String] = [], fileSizeLimitKiB: Int? = nil, mount: DataMount = .plain,
        api: Bool = false
    ) throws {
        var setup: [String] = []
        // bash counts -f in KiB.
        if let fileSizeLimitKiB { setup.append("ulimit -f \(fileSizeLimitKiB)") }
        let directory = dataPath
        var isPrivate = true
        switch mount {
        case .plain:
            isPrivate = false
        case .tmpfs(let megabytes):
            setup += ["mkdir -p \(directory)", "mount -t tmpfs -o size=\(megabytes)m pf \(directory)"]
        case .readOnly:
            setup += [
                "mkdir -p \(directory)", "mount --bind \(directory) \(directory)",
                "mount -o remount,ro,bind \(directory)",
            ]
        }
        let process = try launch(
            ["coordinator", "--config", configPath, "--listen", listen, "--http", "127.0.0.1:0", "--data", dataPath]
                + (api ? ["--api", apiAddress.isEmpty ? "127.0.0.1:0" : apiAddress] : []) + extra,
            log: "coordinator", setup: setup, privateMounts: isPrivate)
        coordinator = process
        let line = try readLine(containing: "listening on", of: process, log: "coordinator")
        // "pixelflow coordinator listening on 127.0.0.1:PORT (HTTP 127.0.0.1:PORT), jobs stored in DIR"
        let parts = line.split(separator: " ").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "(),")) }
        guard let on = parts.firstIndex(of: "on"), on + 3 < parts.count else {
            throw Failure("unexpected announcement: \(line)")
        }
        protocolAddress = parts[on + 1]
        httpAddress = parts[on + 3]
        if api {
            // "pixelflow coordinator: HTTP API listening on http://127.0.0.1:PORT"
            let announced = try readLine(containing: "HTTP API listening on", of: process, log: "coordinator")
            apiAddress = String(announced.split(separator: "/").last ?? "")
        }
    }

    func startWorker(_ name: String, slots: Int = 2, coordinator: String? = nil, extra: [String] = []) throws {
        let process = try launch(
            [
                "worker", "--coordinator", coordinator ?? protocolAddress, "--slots", "\(slots)", "--name", name,
                "--config", configPath,
            ] + extra, log: name)
        workers[name] = process
        _ = try readFirstLine(of: process, log: name)
    }

    var port: Int { Int(protocolAddress.split(separator: ":").last!)! }

    /// Waits until the coordinator reports `count` registered workers.
    func waitForWorkers(_ count: Int, timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let workers = try? await metric("pixelflow_workers"), workers == Double(count) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure("\(count) workers did not register within \(timeout)")
    }

    func http(_ path: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://\(httpAddress)\(path)")!)
        return String(decoding: data, as: UTF8.self)
    }

    func metric(_ name: String) async throws -> Double? {
        let text = try await http("/metrics")
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ").last!) }
    }

    /// kill -9 of the coordinator, then a new one on the same protocol port.
    func restartCoordinatorAfterKill() throws {
        guard let coordinator else { return }
        kill(coordinator.processIdentifier, SIGKILL)
        coordinator.waitUntilExit()
        let previous = log("coordinator")
        try FileManager.default.removeItem(at: directory.appendingPathComponent("coordinator.log"))
        try previous.write(
            to: directory.appendingPathComponent("coordinator-before-kill.log"), atomically: true, encoding: .utf8)
        try startCoordinator(listen: protocolAddress, api: !apiAddress.isEmpty)
    }

    /// Resident memory of the coordinator process, in bytes (VmRSS).
    func coordinatorRSS() -> Int {
        guard let coordinator else { return 0 }
        return Self.residentBytes(of: coordinator.processIdentifier)
    }

    func workerRSS(_ name: String) -> Int {
        guard let process = workers[name] else { return 0 }
        return Self.residentBytes(of: process.processIdentifier)
    }

    static func residentBytes(of pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    var isCoordinatorRunning: Bool { coordinator?.isRunning ?? false }

    func signalCoordinator(_ signal: Int32) {
        guard let coordinator, coordinator.isRunning else { return }
        kill(coordinator.processIdentifier, signal)
    }

    func signal(worker name: String, _ signal: Int32) {
        guard let process = workers[name], process.isRunning else { return }
        kill(process.processIdentifier, signal)
    }

    func waitForExit(worker name: String, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if workers[name]?.isRunning != true { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func stopAll() {
        for process in Array(workers.values) + [coordinator].compactMap({ $0 }) where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func log(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("\(name).log"), encoding: .utf8)) ?? ""
    }

    /// Runs a shell command inside the coordinator's mount namespace (where its tmpfs or read-only mount is).
    func runInCoordinatorMounts(_ command: String) throws -> Int32 {
        guard let coordinator else { throw Failure("no coordinator") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nsenter")
        process.arguments = ["-t", "\(coordinator.processIdentifier)", "-m", "/bin/bash", "-c", command]
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// `setup`: shell commands run before the binary replaces the shell (`exec` keeps the PID, so the test still
    /// ends the process it started), in a private mount namespace when the coordinator's data is mounted apart.
    private func launch(
        _ arguments: [String], log name: String, setup: [String] = [], privateMounts: Bool = false
    ) throws -> Process {
        let process = Process()
        if !setup.isEmpty {
            let script = (setup + ["exec \"$0\" \"$@\""]).joined(separator: " && ")
            let shell = ["/bin/bash", "-c", script, Self.binary.path] + arguments
            if privateMounts {
                process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
                process.arguments = ["--mount", "--propagation", "private"] + shell
            } else {
                process.executableURL = URL(fileURLWithPath: shell[0])
                process.arguments = Array(shell.dropFirst())
            }
        } else {
            process.executableURL = Self.binary
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PIXELFLOW_") }
            .merging(environment) { _, set in set }
        let logURL = directory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: logURL)
        process.standardError = process.standardOutput
        try process.run()
        return process
    }

    private func readFirstLine(of process: Process, log name: String, timeout: Duration = .seconds(20)) throws -> String
    {
        try readLine(containing: "", of: process, log: name, timeout: timeout)
    }

    private func readLine(
        containing marker: String, of process: Process, log name: String, timeout: Duration = .seconds(20)
    ) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = log(name)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()  // complete lines
            if let line = lines.first(where: { marker.isEmpty || $0.contains(marker) }) { return String(line) }
            guard process.isRunning else { throw Failure("\(name) exited: \(text)") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw Failure("\(name) printed nothing within \(timeout)")
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
