import Crypto
import Foundation
import SwiftASN1
import X509

/// A private CA for one cluster and the certificates it issues to its hosts (`pixelflow certs init`): ECDSA P-256,
/// each host certificate naming the host (DNS name or IP address) and good for both ends of a link, so the same
/// files serve a coordinator's listener and a worker's client certificate.
public struct ClusterCertificates {
    public let caCertificate: Certificate
    let caKey: P256.Signing.PrivateKey

    /// A new CA, valid from now for `days`.
    public init(name: String = "PixelFlow cluster CA", days: Int = 3650, now: Date = Date()) throws {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(name) }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
        }
        caCertificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(days) * 86_400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: .init(key))
        caKey = key
    }

    /// A certificate for `host` (a DNS name or an IP address; `alsoNames` are added to it) and its key, valid
    /// between the two dates.
    public func issue(
        host: String, alsoNames: [String] = [], notBefore: Date = Date().addingTimeInterval(-300),
        notAfter: Date = Date().addingTimeInterval(825 * 86_400)
    ) throws -> (certificate: Certificate, key: P256.Signing.PrivateKey) {
        let key = P256.Signing.PrivateKey()
        let names = ([host] + alsoNames).map(Self.generalName)
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
            SubjectAlternativeNames(names)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: caCertificate.subject,
            subject: try DistinguishedName { CommonName(host) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: .init(caKey))
        return (certificate, key)
    }

    /// Writes `ca.pem` and, per host, `<host>.pem` and `<host>-key.pem` (mode 0600) into `directory`. The CA's own
    /// key is not written: new hosts get a new `certs init`, and a stolen directory cannot mint certificates.
    public func write(
        hosts: [String], alsoNames: [String] = [], to directory: URL,
        notAfter: Date = Date().addingTimeInterval(825 * 86_400)
    ) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written: [URL] = []
        let caFile = directory.appendingPathComponent("ca.pem")
        try caCertificate.serializeAsPEM().pemString.write(to: caFile, atomically: true, encoding: .utf8)
        written.append(caFile)
        for host in hosts {
            let (certificate, key) = try issue(host: host, alsoNames: alsoNames, notAfter: notAfter)
            let certificateFile = directory.appendingPathComponent("\(host).pem")
            let keyFile = directory.appendingPathComponent("\(host)-key.pem")
            try certificate.serializeAsPEM().pemString.write(to: certificateFile, atomically: true, encoding: .utf8)
            try key.pemRepresentation.write(to: keyFile, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile.path)
            written += [certificateFile, keyFile]
        }
        return written
    }

    static func generalName(_ name: String) -> GeneralName {
        guard let bytes = ipAddressBytes(name) else { return .dnsName(name) }
        return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes)))
    }
}

/// An IPv4 or IPv6 literal's bytes in network order (what a certificate's IP address names); nil for a host name.
func ipAddressBytes(_ text: String) -> [UInt8]? {
    var v4 = in_addr()
    if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
    return nil
}
