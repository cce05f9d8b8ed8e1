import NIOCore
import NIOSSL

/// TLS 1.3 on a link to the coordinator (pfctl, the client library, a worker): the coordinator's certificate must
/// chain to `caFile` and name the host connected to (its DNS name, or its IP address); with `certificateFile` and
/// `keyFile`, this side shows its own certificate (mutual TLS, which a coordinator with `tls.client_ca` requires of
/// workers).
public struct ClientTLS: Sendable {
    let context: NIOSSLContext

    public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil) throws(TLSSetupError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.trustRoots = .certificates(try PEMFiles.certificates(caFile, what: "CA file"))
        switch (certificateFile, keyFile) {
        case (let certificate?, let key?):
            configuration.certificateChain = try PEMFiles.certificates(certificate, what: "certificate").map {
                .certificate($0)
            }
            configuration.privateKey = .privateKey(try PEMFiles.privateKey(key))
        case (nil, nil):
            break
        default:
            throw TLSSetupError("a client certificate needs both its certificate file and its key file")
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError("TLS cannot be set up with \(caFile): \(error)")
        }
    }

    /// Puts the TLS handler first in a new connection's pipeline. The name checked is `host`'s: a DNS name is also
    /// sent as SNI; an IP address is matched against the certificate's IP addresses.
    public func addHandler(to channel: any Channel, host: String) throws {
        let handler = try NIOSSLClientHandler(
            context: context, serverHostname: ipAddressBytes(host) == nil ? host : nil)
        try channel.pipeline.syncOperations.addHandler(handler, position: .first)
    }

    /// `addHandler` for connections to `host`, as `CoordinatorLink.connect` takes it.
    public func securing(host: String) -> @Sendable (any Channel) throws -> Void {
        { channel in try addHandler(to: channel, host: host) }
    }
}
