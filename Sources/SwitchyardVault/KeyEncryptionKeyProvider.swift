/// One version of a key-encryption key (KEK): `local` version 3, or a KMS key ARN and its version.
public struct KEKVersion: Hashable, Sendable, Codable, CustomStringConvertible {
    public let keyID: String
    public let version: Int

    public init(keyID: String, version: Int) {
        self.keyID = keyID
        self.version = version
    }

    public var description: String { "\(keyID)/v\(version)" }
}

/// A data key as it may be stored: encrypted by one KEK version, never in plaintext (REQUIREMENTS EN-1).
public struct WrappedDataKey: Sendable, Equatable {
    public let ciphertext: [UInt8]
    public let kek: KEKVersion

    public init(ciphertext: [UInt8], kek: KEKVersion) {
        self.ciphertext = ciphertext
        self.kek = kek
    }
}

/// What a wrapped data key is bound to, like AWS KMS's encryption context or Vault Transit's context:
/// unwrapping with any other context fails. Switchyard binds each data key to its tenant and its own id.
public struct WrapContext: Sendable, Equatable {
    public let pairs: [(String, String)]

    public init(_ pairs: KeyValuePairs<String, String>) {
        self.pairs = pairs.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 }
    }

    public static func == (lhs: WrapContext, rhs: WrapContext) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0 == $1 }
    }

    /// A canonical byte string: sorted keys, each key and value length-prefixed, so no two contexts collide.
    public var canonicalBytes: [UInt8] {
        var bytes = Array("switchyard-wrap-context/v1".utf8)
        for (key, value) in pairs {
            bytes.appendLengthPrefixed(Array(key.utf8))
            bytes.appendLengthPrefixed(Array(value.utf8))
        }
        return bytes
    }
}

/// Wraps and unwraps data keys with a key-encryption key that this process may not hold itself.
///
/// The local keyring (`LocalKeyProvider`) and AWS KMS (`AWSKMSKeyProvider`: `GenerateDataKey`/`Encrypt`/`Decrypt`
/// with an encryption context) implement it; Google Cloud KMS (additional authenticated data) and Vault Transit
/// (`context`) fit the same shape.
/// New wraps always use the primary version; unwrap uses the version recorded with the wrapped key.
public protocol KeyEncryptionKeyProvider: Sendable {
    /// The version new data keys are wrapped with.
    func primaryVersion() async throws -> KEKVersion
    /// Every version that can still unwrap.
    func availableVersions() async throws -> [KEKVersion]
    func wrap(_ dataKey: KeyMaterial, context: WrapContext) async throws -> WrappedDataKey
    func unwrap(_ wrapped: WrappedDataKey, context: WrapContext) async throws -> KeyMaterial
    /// A new random data key and its wrapped form. A provider with a generator of its own (KMS `GenerateDataKey`)
    /// uses it; the default makes the key here and wraps it.
    func generateDataKey(context: WrapContext) async throws -> (material: KeyMaterial, wrapped: WrappedDataKey)
    /// Whether this provider can unwrap keys wrapped by `version`; `KeyProviderChain` asks each of its providers.
    func canUnwrap(_ version: KEKVersion) async -> Bool
}

extension KeyEncryptionKeyProvider {
    public func generateDataKey(context: WrapContext) async throws -> (material: KeyMaterial, wrapped: WrappedDataKey) {
        let material = KeyMaterial.generate()
        return (material, try await wrap(material, context: context))
    }

    public func canUnwrap(_ version: KEKVersion) async -> Bool {
        (try? await availableVersions().contains(version)) ?? false
    }
}

/// Why the vault could not do what it was asked; never carries key bytes or plaintext.
public enum VaultError: Error, Equatable, CustomStringConvertible {
    /// The wrapped key names a KEK version the provider does not have (retired or from another keyring).
    case unknownKEKVersion(KEKVersion)
    /// Authentication failed: wrong key, wrong context or associated data, or tampered bytes.
    case authenticationFailed
    /// The bytes are not a sealed secret of a format this build knows.
    case malformedCiphertext
    /// The data key a ciphertext names no longer exists (its tenant was deleted: crypto-shredded).
    case dataKeyNotFound
    case keyring(String)

    public var description: String {
        switch self {
        case .unknownKEKVersion(let version): "the key-encryption key \(version) is not in the keyring"
        case .authenticationFailed: "decryption failed: wrong key, wrong binding or tampered data"
        case .malformedCiphertext: "not a sealed secret of a known format"
        case .dataKeyNotFound: "the data key of this secret no longer exists"
        case .keyring(let problem): problem
        }
    }
}

extension Array where Element == UInt8 {
    mutating func appendLengthPrefixed(_ part: [UInt8]) {
        let count = UInt32(part.count)
        append(contentsOf: [UInt8(count >> 24 & 0xFF), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)])
        append(contentsOf: part)
    }
}
