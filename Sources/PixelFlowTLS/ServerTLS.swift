import NIOCore
import NIOSSL
import NIOTLS

/// The coordinator's side of TLS 1.3 (`tls.cert`, `tls.key`; `tls.client_ca` for mutual TLS with workers). One port
/// serves clients and workers, so a client certificate is asked for but not required by TLS itself: with
/// `clientCAFile`, one that is shown must chain to it, and a peer that authenticates as a worker without one is
/// refused (`requiresWorkerCertificate`).
public struct ServerTLS: Sendable {
    let context: NIOSSLContext
    public let requiresWorkerCertificate: Bool
    /// The same certificate for an HTTPS listener (the HTTP API), which asks nothing of its clients.
    public let httpsConfiguration: TLSConfiguration

    public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) throws(TLSSetupError) {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try PEMFiles.certificates(certificateFile, what: "certificate").map { .certificate($0) },
            privateKey: .privateKey(try PEMFiles.privateKey(keyFile)))
        configuration.minimumTLSVersion = .tlsv13
        httpsConfiguration = configuration
        if let clientCAFile {
            configuration.trustRoots = .certificates(try PEMFiles.certificates(clientCAFile, what: "client CA file"))
            configuration.certificateVerification = .optionalVerification
        }
        requiresWorkerCertificate = clientCAFile != nil
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError("TLS cannot be set up with \(certificateFile) and \(keyFile): \(error)")
        }
    }

    /// Puts the TLS handler first in an accepted connection's pipeline.
    public func addHandler(to channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context), position: .first)
    }

    /// When `event` is the end of the TLS handshake: whether the peer showed a certificate (one that chains to the
    /// client CA, or the handshake would have failed). Nil for any other event. Event loop only.
    public static func peerShowedCertificate(afterHandshake event: Any, on channel: any Channel) -> Bool? {
        guard case .handshakeCompleted = event as? TLSUserEvent else { return nil }
        let handler = try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
        return handler?.peerCertificate != nil
    }
}
