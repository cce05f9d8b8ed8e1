import Foundation
import PixelFlowTLS
import Testing
import X509

extension LiveCluster {
    /// TLS 1.3 on the protocol port with `pixelflow certs init`'s files: real processes, real sockets.
    @Suite("TLS between hosts", .serialized)
    struct TLSTests {
        struct Files {
            var directory: URL
            var ca: String { directory.appendingPathComponent("ca.pem").path }
            func certificate(_ host: String) -> String { directory.appendingPathComponent("\(host).pem").path }
            func key(_ host: String) -> String { directory.appendingPathComponent("\(host)-key.pem").path }
        }

        /// `pixelflow certs init` in the cluster's directory, for the coordinator (127.0.0.1) and a worker.
        static func certificates(in cluster: ClusterProcesses, _ name: String = "certs") throws -> Files {
            let directory = cluster.directory.appendingPathComponent(name)
            let process = Process()
            process.executableURL = ClusterProcesses.binary
            process.arguments = ["certs", "init", directory.path, "--host", "127.0.0.1", "--host", "worker1"]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            return Files(directory: directory)
        }

        /// A cluster whose coordinator serves TLS with its own certificate; `clientCA`: workers need theirs.
        static func cluster(clientCA: Bool = true) throws -> (ClusterProcesses, Files) {
            let cluster = try ClusterProcesses()
            let files = try certificates(in: cluster)
            var tls = ["cert": files.certificate("127.0.0.1"), "key": files.key("127.0.0.1")]
            if clientCA { tls["client_ca"] = files.ca }
            try cluster.updateConfig { $0["tls"] = tls }
            return (cluster, files)
        }

        static func pfctl(_ arguments: [String], _ cluster: ClusterProcesses) throws -> PfctlClusterTests.Run {
            try PfctlClusterTests.pfctl(arguments, cluster: cluster)
        }

        @Test(
            "certs init, then a worker with its client certificate and pfctl with the CA over TLS 1.3: jobs run end to end"
        )
        func jobsOverTLS() async throws {
            let (cluster, files) = try Self.cluster()
            try cluster.startCoordinator(api: true)
            try cluster.startWorker(
                "w1", extra: ["--ca", files.ca, "--cert", files.certificate("worker1"), "--key", files.key("worker1")])
            try await cluster.waitForWorkers(1)
            let inputs = cluster.directory.appendingPathComponent("in")
            try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
            try Data(TestImages.jpeg(width: 800, height: 600)).write(to: inputs.appendingPathComponent("a.jpg"))
            let output = cluster.directory.appendingPathComponent("out")
            let run = try Self.pfctl(
                ["process", "--ca", files.ca, "--variant", "t:resize:100:webp", "-o", output.path, inputs.path], cluster
            )
            #expect(run.status == 0, "\(run.stderr)")
            let thumb = try #require(
                TestImages.inspect(Array(try Data(contentsOf: output.appendingPathComponent("a/t.webp")))))
            #expect(thumb.width == 100 && thumb.height == 75)

            // The HTTP API serves HTTPS with the same certificate; plain HTTP to it gets nowhere.
            #expect(try Self.curl(["--cacert", files.ca, "https://\(cluster.apiAddress)/healthz"]) == "ok\n")
            #expect((try? Self.curl(["http://\(cluster.apiAddress)/healthz"])) == nil)
        }

        /// curl's output, or an error when it fails (it checks the certificate against `--cacert`).
        static func curl(_ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["curl", "-sS", "--fail", "--max-time", "10"] + arguments
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw ClusterProcesses.Failure("curl \(arguments) exited \(process.terminationStatus)")
            }
            return String(decoding: data, as: UTF8.self)
        }

        @Test(
            "a plain client to the TLS port, a client with another CA, a worker without a client certificate: each a clear error, the coordinator unharmed"
        )
        func refusals() async throws {
            let (cluster, files) = try Self.cluster()
            try cluster.startCoordinator()

            let plain = try Self.pfctl(["workers"], cluster)
            #expect(plain.status == 1)
            #expect(plain.stderr.contains("TLS"), "\(plain.stderr)")

            let other = try Self.certificates(in: cluster, "other")
            let wrongCA = try Self.pfctl(["workers", "--ca", other.ca], cluster)
            #expect(wrongCA.status == 1)
            #expect(wrongCA.stderr.contains("not trusted"), "\(wrongCA.stderr)")

            try cluster.startWorker("bare", extra: ["--ca", files.ca])
            try await Task.sleep(for: .seconds(1))
            #expect(
                cluster.log("bare").contains("a worker must show a TLS client certificate"), "\(cluster.log("bare"))")
            #expect(try await cluster.metric("pixelflow_workers") == 0)

            // Still serving: the right CA works.
            let good = try Self.pfctl(["workers", "--ca", files.ca, "--json"], cluster)
            #expect(good.status == 0, "\(good.stderr)")
        }

        @Test(
            "a TLS client to a plain port, and a coordinator whose certificate expired: clear errors; plain on a non-loopback address is warned about"
        )
        func mismatches() async throws {
            let plainCluster = try ClusterProcesses()
            try plainCluster.startCoordinator(listen: "0.0.0.0:0")
            #expect(plainCluster.log("coordinator").contains("without TLS"), "\(plainCluster.log("coordinator"))")
            let certs = try Self.certificates(in: plainCluster)
            let toPlain = try Self.pfctl(["workers", "--ca", certs.ca], plainCluster)
            #expect(toPlain.status == 1)
            #expect(toPlain.stderr.contains("TLS"), "\(toPlain.stderr)")

            // An expired certificate, from the same CA.
            let authority = try ClusterCertificates()
            let (certificate, key) = try authority.issue(
                host: "127.0.0.1", notBefore: Date().addingTimeInterval(-86_400 * 10),
                notAfter: Date().addingTimeInterval(-86_400))
            let cluster = try ClusterProcesses()
            let directory = cluster.directory.appendingPathComponent("expired")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let files = ["ca.pem", "cert.pem", "key.pem"].map { directory.appendingPathComponent($0) }
            try authority.caCertificate.serializeAsPEM().pemString.write(
                to: files[0], atomically: true, encoding: .utf8)
            try certificate.serializeAsPEM().pemString.write(to: files[1], atomically: true, encoding: .utf8)
            try key.pemRepresentation.write(to: files[2], atomically: true, encoding: .utf8)
            try cluster.updateConfig { $0["tls"] = ["cert": files[1].path, "key": files[2].path] }
            try cluster.startCoordinator()
            let refused = try Self.pfctl(["workers", "--ca", files[0].path], cluster)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("not trusted"), "\(refused.stderr)")
        }
    }
}
