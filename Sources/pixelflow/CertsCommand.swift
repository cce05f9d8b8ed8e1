import ArgumentParser
import Foundation
import PixelFlowTLS

/// `pixelflow certs init DIR --host NAME...`: a private CA and a certificate per host, for TLS between a cluster's
/// hosts.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs", abstract: "Certificates for TLS between a cluster's hosts.",
        subcommands: [Init.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Make a private CA and a certificate and key for each host, in DIR.",
            discussion: """
                Writes DIR/ca.pem (give it to workers and pfctl as --ca, and to the coordinator as tls.client_ca for \
                mutual TLS) and, per --host, DIR/HOST.pem and DIR/HOST-key.pem (mode 0600): the coordinator's \
                tls.cert and tls.key, or a worker's --cert and --key. A host is a DNS name or an IP address, and \
                clients must connect to it by that name. ECDSA P-256, TLS 1.3. The CA's key is not kept: to add a \
                host, run init again and hand out the new ca.pem.
                """)

        @Argument(help: "Directory to write the files to (created if missing).")
        var directory: String

        @Option(name: .customLong("host"), help: "A host's DNS name or IP address; repeat for each host.")
        var hosts: [String] = []

        @Option(help: "Extra names (DNS or IP) put in every host certificate, e.g. 127.0.0.1 for local tests.")
        var alsoName: [String] = []

        @Option(help: "Days the host certificates are valid.")
        var days = 825

        func validate() throws {
            guard !hosts.isEmpty else { throw ValidationError("name at least one --host") }
            guard (1...3650).contains(days) else { throw ValidationError("--days must be 1 to 3650") }
        }

        func run() throws {
            let authority = try ClusterCertificates()
            let written = try authority.write(
                hosts: hosts, alsoNames: alsoName, to: URL(fileURLWithPath: directory),
                notAfter: Date().addingTimeInterval(Double(days) * 86_400))
            for file in written { print(file.path) }
        }
    }
}
