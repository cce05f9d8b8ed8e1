import Foundation
import PixelFlowClient
import Testing

extension LiveCluster {
    /// deploy/cluster.sh across simulated hosts: network namespaces made by deploy/netns-hosts.sh, each with its
    /// own address, the coordinator on one and a worker on each of two others. Needs root (CI runs as root).
    @Suite(
        "Multi-host deploy over network namespaces", .serialized,
        .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")))
    struct MultiHostTests {
        static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()

        /// Runs a deploy/ script with posix_spawn and waitpid: Foundation's Process can wait forever for a child
        /// whose own children (the daemons it starts) outlive it.
        @discardableResult
        static func script(_ name: String, _ arguments: [String], environment: [String: String]) throws -> String {
            let log = FileManager.default.temporaryDirectory.appendingPathComponent(
                "pixelflow-deploy-\(UUID().uuidString).log")
            defer { try? FileManager.default.removeItem(at: log) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            let argv = ["/bin/bash", repository.appendingPathComponent("deploy/\(name)").path] + arguments
            let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
            var cArgv = argv.map { strdup($0) } + [nil]
            var cEnv = env.map { strdup($0) } + [nil]
            defer { (cArgv + cEnv).forEach { free($0) } }
            var pid: pid_t = 0
            guard posix_spawn(&pid, "/bin/bash", &actions, nil, &cArgv, &cEnv) == 0 else {
                throw ClusterProcesses.Failure("cannot run deploy/\(name)")
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            guard status == 0 else {
                throw ClusterProcesses.Failure("deploy/\(name) \(arguments) failed (\(status)): \(output)")
            }
            return output
        }

        @Test(
            "a coordinator and two workers on three hosts, every link over TLS: jobs complete, workers are seen at their own addresses"
        )
        func threeHosts() async throws {
            let prefix = "pf\(String(UInt16.random(in: 0x1000...0xFFFF), radix: 16))"
            let subnet = "10.77.\(Int.random(in: 1...250))"
            let network = ["PREFIX": prefix, "SUBNET": subnet]
            let cluster = try ClusterProcesses()  // for its config and secrets; its processes are not used
            let hostsFile = cluster.directory.appendingPathComponent("hosts")
            try """
            coordinator \(prefix)-host1
            worker \(prefix)-host2 slots=1
            worker \(prefix)-host3 slots=1

            """.write(to: hostsFile, atomically: true, encoding: .utf8)
            let deploy = network.merging([
                "REMOTE": "netns", "REMOTE_DIR": cluster.directory.appendingPathComponent("hosts.d").path,
                "PIXELFLOW_BIN": ClusterProcesses.binary.path, "PIXELFLOW_CONFIG": cluster.configPath,
                "TLS": "1", "CERTS_DIR": cluster.directory.appendingPathComponent("certs").path,
            ]) { $1 }

            try Self.script("netns-hosts.sh", ["up", "3"], environment: network)
            defer {
                _ = try? Self.script("cluster.sh", ["down", hostsFile.path], environment: deploy)
                _ = try? Self.script("netns-hosts.sh", ["down"], environment: network)
            }
            try Self.script("cluster.sh", ["up", hostsFile.path], environment: deploy)

            let coordinator = "\(subnet).1"
            let source = TestImages.jpeg(width: 640, height: 480)
            var tls = PixelFlowClient.Configuration()
            tls.tls = try ClientTLS(caFile: cluster.directory.appendingPathComponent("certs/ca.pem").path)
            let workers = try await PixelFlowClient.withConnection(
                to: coordinator, port: 7400, keyID: "acme", secret: ClusterProcesses.tenantSecret, configuration: tls
            ) { client in
                // Both workers must have registered before the jobs are spread.
                let deadline = ContinuousClock.now + .seconds(20)
                while try await client.workers().count < 2 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<6 {
                        group.addTask {
                            var variants = 0
                            for try await event in client.process(
                                source: source,
                                pipeline: #"[{"id":"thumb","action":"resize","width":100,"format":"webp"}]"#)
                            {
                                if case .variant = event { variants += 1 }
                            }
                            return variants
                        }
                    }
                    for try await variants in group { #expect(variants == 1) }
                }
                return try await client.workers()
            }
            #expect(workers.count == 2)
            let addresses = Set(workers.map { $0.address.split(separator: ":").first.map(String.init) ?? "" })
            #expect(addresses == ["\(subnet).2", "\(subnet).3"], "workers connect from their own hosts")
            #expect(workers.reduce(0) { $0 + $1.done } == 6)

            // Without the CA the coordinator is not reached in clear.
            await #expect(throws: PixelFlowClientError.self) {
                try await PixelFlowClient.withConnection(
                    to: coordinator, port: 7400, keyID: "acme", secret: ClusterProcesses.tenantSecret
                ) { try await $0.workers() }
            }
        }
    }
}
