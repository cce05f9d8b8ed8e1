/// `tls.*`: the coordinator's certificate and key (PEM files) for TLS 1.3 on the protocol port, and the CA a worker's
/// client certificate must chain to (`tls.client_ca`, mutual TLS for workers).
public struct TLSFiles: Sendable, Equatable {
    public var certificate: String
    public var key: String
    public var clientCA: String?

    public init(certificate: String, key: String, clientCA: String? = nil) {
        self.certificate = certificate
        self.key = key
        self.clientCA = clientCA
    }

    /// Nil when the config names neither `tls.cert` nor `tls.key`.
    static func read(_ reader: inout ConfigReader) throws -> TLSFiles? {
        let certificate = try reader.string("tls.cert")
        let key = try reader.string("tls.key")
        let clientCA = try reader.string("tls.client_ca")
        switch (certificate, key) {
        case (let certificate?, let key?):
            return TLSFiles(certificate: certificate, key: key, clientCA: clientCA)
        case (nil, nil):
            guard clientCA == nil else { throw CoordinatorConfig.Invalid("tls.client_ca needs tls.cert and tls.key") }
            return nil
        default:
            throw CoordinatorConfig.Invalid("tls.cert and tls.key go together: give both or neither")
        }
    }
}
