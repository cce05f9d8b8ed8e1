import Foundation
import NIOSSL

/// Reading PEM files with an error that names the file and what was expected in it.
enum PEMFiles {
    static func certificates(_ path: String, what: String) throws(TLSSetupError) -> [NIOSSLCertificate] {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw TLSSetupError("\(what) \(path) cannot be read")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw TLSSetupError("\(what) \(path) is not a PEM certificate: \(error)")
        }
        guard !certificates.isEmpty else { throw TLSSetupError("\(what) \(path) holds no certificate") }
        return certificates
    }

    static func privateKey(_ path: String) throws(TLSSetupError) -> NIOSSLPrivateKey {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw TLSSetupError("key file \(path) cannot be read")
        }
        do {
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            throw TLSSetupError("key file \(path) is not a PEM private key: \(error)")
        }
    }
}
