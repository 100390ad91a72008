import Crypto
import Foundation
import Synchronization

/// The key-encryption-key provider for a local keyring: AES-256-GCM with the KEK version's key,
/// the wrap context as associated data. Stored form: nonce (12) + ciphertext (32) + tag (16).
///
/// When the keyring came from a file and a wrapped key names a version this process does not know,
/// the file is read again once: after `switchyard keys rotate` and `keys rewrap`, running processes keep
/// reading data keys that were moved to the new version without a restart. New wraps use the primary
/// version known at the last (re)load.
public final class LocalKeyProvider: KeyEncryptionKeyProvider {
    private let state: Mutex<LocalKeyring>
    private let path: String?

    public init(keyring: LocalKeyring, path: String? = nil) {
        self.state = Mutex(keyring)
        self.path = path
    }

    /// Loads `path` (refusing a file readable by others) and remembers it for reloads.
    public convenience init(path: String) throws(VaultError) {
        self.init(keyring: try LocalKeyring.load(path: path), path: path)
    }

    public var keyring: LocalKeyring { state.withLock { $0 } }

    public func primaryVersion() async throws -> KEKVersion { keyring.primaryVersion }

    public func availableVersions() async throws -> [KEKVersion] {
        let keyring = self.keyring
        return keyring.versions.map { KEKVersion(keyID: keyring.keyID, version: $0.number) }
    }

    public func wrap(_ dataKey: KeyMaterial, context: WrapContext) async throws -> WrappedDataKey {
        let keyring = self.keyring
        let version = keyring.primaryVersion
        guard let kek = keyring.material(for: version) else { throw VaultError.unknownKEKVersion(version) }
        let sealed = try dataKey.withBytes { bytes in
            try AES.GCM.seal(bytes, using: kek.key, authenticating: context.canonicalBytes)
        }
        guard let combined = sealed.combined else { throw VaultError.malformedCiphertext }
        return WrappedDataKey(ciphertext: Array(combined), kek: version)
    }

    public func unwrap(_ wrapped: WrappedDataKey, context: WrapContext) async throws -> KeyMaterial {
        let kek = try material(for: wrapped.kek)
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.SealedBox(combined: wrapped.ciphertext)
        } catch {
            throw VaultError.malformedCiphertext
        }
        let bytes: Data
        do {
            bytes = try AES.GCM.open(box, using: kek.key, authenticating: context.canonicalBytes)
        } catch {
            throw VaultError.authenticationFailed
        }
        guard let material = KeyMaterial(bytes: bytes) else { throw VaultError.malformedCiphertext }
        return material
    }

    private func material(for version: KEKVersion) throws(VaultError) -> KeyMaterial {
        if let material = keyring.material(for: version) { return material }
        guard let path else { throw .unknownKEKVersion(version) }
        let reloaded = try LocalKeyring.load(path: path)
        guard reloaded.keyID == keyring.keyID, let material = reloaded.material(for: version) else { throw .unknownKEKVersion(version) }
        state.withLock { $0 = reloaded }
        return material
    }
}
