import Foundation

/// Versioned 256-bit key-encryption keys kept in a file (mode 0600) or in an environment variable,
/// one version marked primary. The file format:
///
///     {"format":"switchyard-keyring/v1","key_id":"local","primary":2,
///      "keys":[{"version":1,"key":"<base64>","created_at":"..."},{"version":2,...}]}
public struct LocalKeyring: Sendable {
    public struct Version: Sendable {
        public let number: Int
        let material: KeyMaterial
        public let createdAt: Date
    }

    public static let format = "switchyard-keyring/v1"

    public let keyID: String
    public let primary: Int
    public let versions: [Version]

    public var primaryVersion: KEKVersion { KEKVersion(keyID: keyID, version: primary) }

    init(keyID: String, primary: Int, versions: [Version]) throws(VaultError) {
        guard !versions.isEmpty else { throw .keyring("the keyring holds no keys") }
        guard Set(versions.map(\.number)).count == versions.count else { throw .keyring("the keyring has two keys with the same version") }
        guard versions.contains(where: { $0.number == primary }) else {
            throw .keyring("the keyring's primary version \(primary) is not among its keys")
        }
        guard !keyID.isEmpty, keyID.utf8.count <= 200 else { throw .keyring("the keyring's key_id must be 1 to 200 characters") }
        self.keyID = keyID
        self.primary = primary
        self.versions = versions.sorted { $0.number < $1.number }
    }

    /// A new keyring with one random key, version 1, primary.
    public static func generate(keyID: String = "local", now: Date = Date()) -> LocalKeyring {
        // Cannot fail: one version, which is primary, and a valid id.
        try! LocalKeyring(keyID: keyID, primary: 1, versions: [Version(number: 1, material: .generate(), createdAt: now)])
    }

    /// This keyring plus a new random key, which becomes primary. Older versions keep unwrapping.
    public func rotated(now: Date = Date()) -> LocalKeyring {
        let next = (versions.map(\.number).max() ?? 0) + 1
        return try! LocalKeyring(keyID: keyID, primary: next, versions: versions + [Version(number: next, material: .generate(), createdAt: now)])
    }

    /// This keyring without `version`, which must not be primary. Only safe once no stored key is wrapped by it
    /// (`switchyard keys retire` checks the database first).
    public func retiring(_ version: Int) throws(VaultError) -> LocalKeyring {
        guard version != primary else { throw .keyring("version \(version) is primary; rotate first") }
        guard versions.contains(where: { $0.number == version }) else { throw .keyring("the keyring has no version \(version)") }
        return try LocalKeyring(keyID: keyID, primary: primary, versions: versions.filter { $0.number != version })
    }

    func material(for version: KEKVersion) -> KeyMaterial? {
        guard version.keyID == keyID else { return nil }
        return versions.first { $0.number == version.version }?.material
    }

    // MARK: - Reading and writing

    private struct File: Codable {
        struct Key: Codable {
            let version: Int
            let key: String
            let createdAt: Date

            enum CodingKeys: String, CodingKey {
                case version, key
                case createdAt = "created_at"
            }
        }

        let format: String
        let keyID: String
        let primary: Int
        let keys: [Key]

        enum CodingKeys: String, CodingKey {
            case format, primary, keys
            case keyID = "key_id"
        }
    }

    /// Parses the JSON text of a keyring (the file's content, or `SWITCHYARD_KEYRING`).
    public init(json: String) throws(VaultError) {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let file: File
        do {
            file = try decoder.decode(File.self, from: Data(json.utf8))
        } catch {
            throw .keyring("the keyring is not valid JSON of format \(Self.format)")
        }
        guard file.format == Self.format else { throw .keyring("unknown keyring format '\(file.format)'; expected \(Self.format)") }
        var versions: [Version] = []
        for key in file.keys {
            guard let bytes = Data(base64Encoded: key.key), let material = KeyMaterial(bytes: bytes) else {
                throw .keyring("key version \(key.version) is not 32 bytes of base64")
            }
            versions.append(Version(number: key.version, material: material, createdAt: key.createdAt))
        }
        try self.init(keyID: file.keyID, primary: file.primary, versions: versions)
    }

    /// Reads a keyring file, refusing one that anyone but its owner may read or write.
    public static func load(path: String) throws(VaultError) -> LocalKeyring {
        var status = stat()
        guard stat(path, &status) == 0 else { throw .keyring("cannot read the keyring file \(path): \(String(cString: strerror(errno)))") }
        guard status.st_mode & 0o077 == 0 else {
            throw .keyring(
                "the keyring file \(path) is accessible to other users (mode \(String(status.st_mode & 0o777, radix: 8))); run chmod 600 \(path)"
            )
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .keyring("cannot read the keyring file \(path)")
        }
        return try LocalKeyring(json: text)
    }

    /// The JSON text of this keyring: key material in base64, to be kept secret.
    public func json() -> String {
        let file = File(
            format: Self.format,
            keyID: keyID,
            primary: primary,
            keys: versions.map { version in
                File.Key(version: version.number, key: version.material.withBytes { Data($0).base64EncodedString() }, createdAt: version.createdAt)
            }
        )
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try! encoder.encode(file), as: UTF8.self) + "\n"
    }

    /// Writes the keyring to `path` with mode 0600, atomically (a temporary file renamed over the old one).
    /// With `replacing: false` an existing file is an error, so `keys generate` never overwrites keys.
    public func write(to path: String, replacing: Bool) throws(VaultError) {
        if !replacing && FileManager.default.fileExists(atPath: path) {
            throw .keyring("\(path) exists already; refusing to overwrite a keyring")
        }
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw .keyring("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        let written = (try? handle.write(contentsOf: Data(json().utf8))) != nil
        let synced = (try? handle.synchronize()) != nil
        try? handle.close()
        guard written, synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw .keyring("cannot write the keyring to \(path): \(String(cString: strerror(errno)))")
        }
    }
}
