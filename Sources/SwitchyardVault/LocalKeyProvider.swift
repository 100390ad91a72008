import Crypto
import Foundation
import Synchronization

/// The key-encryption-key provider for a local keyring: AES-256-GCM with the KEK version's key,
/// the wrap context as associated data. Stored form: nonce (12) + ciphertext (32) + tag (16).
///
/// A keyring from a file is read again whenever the file has changed (another inode, size or modification time;
/// `keys rotate` and `keys retire` replace it by renaming), checked before every wrap and whenever a wrapped key
/// names a version this process does not know. So after `switchyard keys rotate` every process wraps new data
/// keys with the new primary version from its next wrap on, without a restart, and reads keys already moved to it.
public final class LocalKeyProvider: KeyEncryptionKeyProvider {
    private struct Loaded {
        var keyring: LocalKeyring
        var stamp: FileStamp?
    }

    /// What changes when the keyring file is replaced or rewritten.
    struct FileStamp: Equatable {
        let device: UInt64, inode: UInt64, size: Int64, modifiedSeconds: Int, modifiedNanoseconds: Int

        init?(path: String) {
            var status = stat()
            guard stat(path, &status) == 0 else { return nil }
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
            size = Int64(status.st_size)
            modifiedSeconds = Int(status.st_mtim.tv_sec)
            modifiedNanoseconds = Int(status.st_mtim.tv_nsec)
        }
    }

    private let state: Mutex<Loaded>
    private let path: String?

    public init(keyring: LocalKeyring, path: String? = nil) {
        self.state = Mutex(Loaded(keyring: keyring, stamp: path.flatMap(FileStamp.init(path:))))
        self.path = path
    }

    /// Loads `path` (refusing a file readable by others) and remembers it for reloads.
    public convenience init(path: String) throws(VaultError) {
        let stamp = FileStamp(path: path)
        self.init(keyring: try LocalKeyring.load(path: path), path: path)
        // The stamp of the file as it was before it was read: a change while reading is seen at the next check.
        state.withLock { $0.stamp = stamp }
    }

    public var keyring: LocalKeyring { state.withLock { $0.keyring } }

    public func primaryVersion() async throws -> KEKVersion { try current().primaryVersion }

    public func availableVersions() async throws -> [KEKVersion] {
        let keyring = try current()
        return keyring.versions.map { KEKVersion(keyID: keyring.keyID, version: $0.number) }
    }

    public func wrap(_ dataKey: KeyMaterial, context: WrapContext) async throws -> WrappedDataKey {
        let keyring = try current()
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
        guard let material = try current().material(for: version) else { throw .unknownKEKVersion(version) }
        return material
    }

    /// The keyring as the file now holds it: read again when the file changed since it was last read.
    /// A file that can no longer be read, or that holds another key id, is an error, not a silent fallback to
    /// the keyring in memory: wrapping under a version the operator may be retiring would lose secrets.
    private func current() throws(VaultError) -> LocalKeyring {
        guard let path else { return keyring }
        let stamp = FileStamp(path: path)
        let loaded = state.withLock { $0 }
        guard stamp != loaded.stamp else { return loaded.keyring }
        let reloaded = try LocalKeyring.load(path: path)
        guard reloaded.keyID == loaded.keyring.keyID else {
            throw .keyring(
                "the keyring file \(path) now holds key id '\(reloaded.keyID)', not '\(loaded.keyring.keyID)'; restart to use another keyring"
            )
        }
        state.withLock { $0 = Loaded(keyring: reloaded, stamp: stamp) }
        return reloaded
    }
}
