import Crypto
import Foundation
import SwiftASN1
import SwitchyardCore
import X509

/// A throwaway certificate for `localhost` / 127.0.0.1, written as PEM files for the TLS listener.
public enum SelfSignedCertificate {
    public static func write(into directory: URL) throws -> HTTPConfiguration.TLSFiles {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("localhost") }
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(86_400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                SubjectAlternativeNames([.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: .init(key)
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificatePath = directory.appending(path: "certificate.pem").path
        let keyPath = directory.appending(path: "key.pem").path
        try certificate.serializeAsPEM().pemString.write(toFile: certificatePath, atomically: true, encoding: .utf8)
        try key.pemRepresentation.write(toFile: keyPath, atomically: true, encoding: .utf8)
        return .init(certificatePath: certificatePath, privateKeyPath: keyPath)
    }
}
