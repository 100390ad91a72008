import Crypto
import Foundation

/// A tenant's unwrapped data key, held in memory only, with the id that sealed secrets carry.
public struct DataKey: Sendable {
    public let id: UUID
    let material: KeyMaterial

    public init(id: UUID, material: KeyMaterial) {
        self.id = id
        self.material = material
    }

    /// Seals `plaintext` for `binding`: AES-256-GCM, a random 96-bit nonce, the binding as associated data.
    public func seal(_ plaintext: some Collection<UInt8>, for binding: SecretBinding) throws -> SealedSecret {
        let box = try AES.GCM.seal(
            Array(plaintext),
            using: material.key,
            nonce: AES.GCM.Nonce(),
            authenticating: binding.associatedData(formatVersion: SealedSecret.formatVersion)
        )
        return SealedSecret(dataKeyID: id, nonce: Array(box.nonce), ciphertextAndTag: Array(box.ciphertext) + Array(box.tag))
    }

    /// Opens a secret sealed by this key for exactly `binding`.
    public func open(_ sealed: SealedSecret, for binding: SecretBinding) throws(VaultError) -> [UInt8] {
        guard sealed.dataKeyID == id else { throw .authenticationFailed }
        do {
            let tagStart = sealed.ciphertextAndTag.count - SealedSecret.tagLength
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: sealed.nonce),
                ciphertext: sealed.ciphertextAndTag[..<tagStart],
                tag: sealed.ciphertextAndTag[tagStart...]
            )
            return Array(
                try AES.GCM.open(box, using: material.key, authenticating: binding.associatedData(formatVersion: SealedSecret.formatVersion))
            )
        } catch {
            throw .authenticationFailed
        }
    }
}

/// The stored form of one secret field (REQUIREMENTS EN-1):
/// format version (1 byte) | data key id (16) | nonce (12) | ciphertext | tag (16).
/// The algorithm is fixed by the format version (1 = AES-256-GCM); the KEK id and version live with the data key.
public struct SealedSecret: Sendable, Equatable {
    public static let formatVersion: UInt8 = 1
    static let nonceLength = 12
    static let tagLength = 16
    static let headerLength = 1 + 16 + nonceLength

    public let dataKeyID: UUID
    let nonce: [UInt8]
    let ciphertextAndTag: [UInt8]

    public var bytes: [UInt8] {
        var bytes = [Self.formatVersion]
        bytes.append(contentsOf: withUnsafeBytes(of: dataKeyID.uuid) { Array($0) })
        bytes.append(contentsOf: nonce)
        bytes.append(contentsOf: ciphertextAndTag)
        return bytes
    }

    init(dataKeyID: UUID, nonce: [UInt8], ciphertextAndTag: [UInt8]) {
        self.dataKeyID = dataKeyID
        self.nonce = nonce
        self.ciphertextAndTag = ciphertextAndTag
    }

    public init(bytes: some Collection<UInt8>) throws(VaultError) {
        let bytes = Array(bytes)
        guard bytes.count >= Self.headerLength + Self.tagLength, bytes[0] == Self.formatVersion else { throw .malformedCiphertext }
        let idBytes = Array(bytes[1..<17])
        dataKeyID = UUID(
            uuid: (
                idBytes[0], idBytes[1], idBytes[2], idBytes[3], idBytes[4], idBytes[5], idBytes[6], idBytes[7],
                idBytes[8], idBytes[9], idBytes[10], idBytes[11], idBytes[12], idBytes[13], idBytes[14], idBytes[15]
            )
        )
        nonce = Array(bytes[17..<Self.headerLength])
        ciphertextAndTag = Array(bytes[Self.headerLength...])
    }
}
