import Crypto
import Foundation
import Logging
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardVault

/// What `switchyard dev` sets up for a newcomer: a private cluster under `.switchyard/`, a migrated
/// database, an operator key and a demo tenant with an API key, all kept across runs so the printed
/// keys stay valid.
public struct DevEnvironment: Sendable {
    public let cluster: LocalPostgresCluster?
    public let ownerURL: DatabaseURL
    public let applicationURL: DatabaseURL
    public let credentialsFile: URL

    /// Credentials kept in `.switchyard/dev-credentials.json` (mode 0600).
    public struct Credentials: Codable, Sendable {
        public var adminKey: String
        public var demoTenantKey: String?
        /// The application role's URL of the running dev database, for commands run beside `dev`
        /// (`SWITCHYARD_DATABASE_URL=... switchyard keys rewrap`); rewritten at every start.
        public var databaseURL: String?

        enum CodingKeys: String, CodingKey {
            case adminKey = "admin_key"
            case demoTenantKey = "demo_tenant_key"
            case databaseURL = "database_url"
        }
    }

    /// Starts (or reuses) the private cluster in `directory`, or uses the given URLs when the caller has a database.
    public static func prepare(
        directory: URL,
        existing: (application: DatabaseURL, owner: DatabaseURL)?,
        logger: Logger
    ) async throws -> DevEnvironment {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let credentialsFile = directory.appending(path: "dev-credentials.json")
        if let existing {
            return DevEnvironment(cluster: nil, ownerURL: existing.owner, applicationURL: existing.application, credentialsFile: credentialsFile)
        }
        var clusterDirectory = directory.appending(path: "postgres")
        if !LocalPostgresCluster.canReach(directory) {
            // Root's home is not searchable by the `postgres` user; keep the cluster where it can go.
            clusterDirectory = Self.reachableClusterDirectory(for: directory)
            logger.notice("the postgres user cannot reach \(directory.path); the dev cluster lives in \(clusterDirectory.path)")
        }
        let cluster = try await LocalPostgresCluster.start(.init(directory: clusterDirectory, durable: true), logger: logger)
        let urls = try await cluster.provisionDatabase(named: "switchyard", logger: logger)
        return DevEnvironment(cluster: cluster, ownerURL: urls.owner, applicationURL: urls.application, credentialsFile: credentialsFile)
    }

    /// Where the cluster of a `directory` the `postgres` user cannot enter lives: the same folder on every run (named
    /// from a digest of the path, not from `hashValue`, which Swift seeds anew in each process), so the data and the
    /// printed keys survive restarts.
    public static func reachableClusterDirectory(for directory: URL) -> URL {
        let digest = SHA256.hash(data: Data(directory.standardizedFileURL.path.utf8))
        let name = digest.prefix(8).map { String(format: "%02x", $0) }.joined()
        return URL(filePath: "/var/tmp/switchyard-dev-\(name)")
    }

    /// The dev keyring, `keyring.json` beside the credentials, generated on first use (mode 0600).
    public func ensureKeyring() throws -> URL {
        let file = credentialsFile.deletingLastPathComponent().appending(path: "keyring.json")
        if !FileManager.default.fileExists(atPath: file.path) {
            try LocalKeyring.generate(keyID: "dev").write(to: file.path, replacing: false)
        }
        return file
    }

    public func loadCredentials(adminKeyOverride: String?) throws -> Credentials {
        var credentials =
            (try? JSONDecoder().decode(Credentials.self, from: Data(contentsOf: credentialsFile)))
            ?? Credentials(
                adminKey: "sy_admin_" + APIKeySecret.generate().value.dropFirst(APIKeySecret.prefix.count).prefix(40),
                demoTenantKey: nil,
                databaseURL: nil
            )
        if let adminKeyOverride { credentials.adminKey = adminKeyOverride }
        credentials.databaseURL = applicationURL.urlString
        try saveCredentials(credentials)
        return credentials
    }

    public func saveCredentials(_ credentials: Credentials) throws {
        // Created 0600 from the start: the keys are never readable by others, not even briefly.
        let data = try JSONEncoder().encode(credentials)
        let descriptor = open(credentialsFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: credentialsFile.path]) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        try handle.write(contentsOf: data)
        fchmod(descriptor, 0o600)
    }

    /// Makes sure the `demo` tenant exists and has a working key; returns that key.
    public func ensureDemoTenant(database: Database, credentials: inout Credentials, logger: Logger) async throws -> String {
        if let key = credentials.demoTenantKey, let secret = APIKeySecret(parsing: key),
            let record = try await database.withOperator(logger: logger, { try await $0.authenticateAPIKey(hash: secret.hash) }),
            record.isActive(at: Date())
        {
            return key
        }
        let tenant = try await database.withOperator(logger: logger) { transaction in
            if let existing = try await transaction.tenant(slug: "demo") { return existing }
            return try await transaction.createTenant(slug: "demo", name: "Demo tenant")
        }
        let created = try await database.withTenant(tenant.id, logger: logger) {
            try await $0.createAPIKey(NewAPIKey(name: "dev", scopes: [.read, .write], expiresAt: nil, createdBy: "operator"))
        }
        credentials.demoTenantKey = created.secret.value
        try saveCredentials(credentials)
        return created.secret.value
    }
}
