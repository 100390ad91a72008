import Foundation
import NIOCore
import PostgresNIO
import SwitchyardCore
import SwitchyardVault

/// Whose OAuth client an app is: the tenant's own, or the platform operator's default.
public enum OAuthAppSource: String, Sendable, Codable {
    case tenant, platform
}

/// An OAuth client registration as lists show it: never the client secret.
public struct OAuthAppRecord: Sendable, Equatable {
    /// The columns every query of `oauth_apps` or `platform_oauth_apps` returns for a record.
    static let columns = "id, provider, client_id, scopes, created_at, updated_at"

    public let id: UUID
    public let provider: String
    public let clientID: String
    public let scopes: [String]?
    public let source: OAuthAppSource
    public let createdAt: Date
    public let updatedAt: Date
}

/// The client credentials the OAuth flow uses; `description` is redacted.
public struct OAuthClientCredentials: Sendable, Equatable, CustomStringConvertible {
    public let clientID: String
    public let clientSecret: String
    public let scopes: [String]?
    public let source: OAuthAppSource

    public init(clientID: String, clientSecret: String, scopes: [String]?, source: OAuthAppSource) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.scopes = scopes
        self.source = source
    }

    public var description: String { "OAuthClientCredentials(\(source.rawValue), client_id: \(clientID), secret redacted)" }
}

extension TenantTransaction {
    /// Creates or replaces the tenant's own OAuth app for `provider`, sealing the client secret.
    public func saveOAuthApp(
        provider: String,
        clientID: String,
        clientSecret: String,
        scopes: [String]?
    ) async throws -> (record: OAuthAppRecord, created: Bool) {
        let existing = try await query("SELECT id FROM oauth_apps WHERE tenant_id = \(tenantID.rawValue) AND provider = \(provider)")
            .decode(UUID.self).collect().first
        let id = existing ?? UUID.v7()
        let sealed = try await seal(Array(clientSecret.utf8), field: .oauthAppClientSecret, row: id)
        let rows = try await query(
            """
            INSERT INTO oauth_apps (tenant_id, id, provider, client_id, client_secret, dek_id, scopes)
            VALUES (\(tenantID.rawValue), \(id), \(provider), \(clientID), \(ByteBuffer(bytes: sealed.bytes)), \(sealed.dataKeyID), \(scopes))
            ON CONFLICT (tenant_id, provider) DO UPDATE
               SET client_id = EXCLUDED.client_id, client_secret = EXCLUDED.client_secret, dek_id = EXCLUDED.dek_id,
                   scopes = EXCLUDED.scopes, updated_at = now()
            RETURNING id, provider, client_id, scopes, created_at, updated_at
            """
        ).collect()
        return (try Self.record(rows[0], source: .tenant), existing == nil)
    }

    public func oauthApps() async throws -> [OAuthAppRecord] {
        try await query(
            "SELECT \(unescaped: OAuthAppRecord.columns) FROM oauth_apps WHERE tenant_id = \(tenantID.rawValue) ORDER BY provider"
        )
        .collect().map { try Self.record($0, source: .tenant) }
    }

    public func oauthApp(provider: String) async throws -> OAuthAppRecord? {
        try await query(
            "SELECT \(unescaped: OAuthAppRecord.columns) FROM oauth_apps WHERE tenant_id = \(tenantID.rawValue) AND provider = \(provider)"
        )
        .collect().first.map { try Self.record($0, source: .tenant) }
    }

    public func deleteOAuthApp(provider: String) async throws -> Bool {
        try await query("DELETE FROM oauth_apps WHERE tenant_id = \(tenantID.rawValue) AND provider = \(provider) RETURNING id")
            .decode(UUID.self).collect().isEmpty == false
    }

    /// The tenant's own client credentials for `provider`, secret opened.
    func ownOAuthClientCredentials(provider: String) async throws -> OAuthClientCredentials? {
        let rows = try await query(
            "SELECT id, client_id, client_secret, scopes FROM oauth_apps WHERE tenant_id = \(tenantID.rawValue) AND provider = \(provider)"
        )
        .decode((UUID, String, ByteBuffer, [String]?).self).collect()
        guard let row = rows.first else { return nil }
        let secret = try await open(row.2.readableBytesView, field: .oauthAppClientSecret, row: row.0)
        return OAuthClientCredentials(clientID: row.1, clientSecret: String(decoding: secret, as: UTF8.self), scopes: row.3, source: .tenant)
    }

    static func record(_ row: PostgresRow, source: OAuthAppSource) throws -> OAuthAppRecord {
        let row = NamedRow(row, table: source == .tenant ? "oauth_apps" : "platform_oauth_apps")
        return OAuthAppRecord(
            id: try row("id"),
            provider: try row("provider"),
            clientID: try row("client_id"),
            scopes: try row("scopes"),
            source: source,
            createdAt: try row("created_at"),
            updatedAt: try row("updated_at")
        )
    }
}

extension OperatorTransaction {
    static let platformTable = "platform_oauth_apps"

    /// Creates or replaces the platform's default OAuth app for `provider`.
    public func savePlatformOAuthApp(
        provider: String,
        clientID: String,
        clientSecret: String,
        scopes: [String]?
    ) async throws -> (record: OAuthAppRecord, created: Bool) {
        let existing = try await query("SELECT id FROM platform_oauth_apps WHERE provider = \(provider)").decode(UUID.self).collect().first
        let id = existing ?? UUID.v7()
        let (sealed, wrapped) = try await vault.sealPlatformSecret(
            Array(clientSecret.utf8),
            table: Self.platformTable,
            row: id,
            field: "client_secret"
        )
        let rows = try await query(
            """
            INSERT INTO platform_oauth_apps (provider, id, client_id, client_secret, wrapped_key, kek_id, kek_version, scopes)
            VALUES (\(provider), \(id), \(clientID), \(ByteBuffer(bytes: sealed.bytes)), \(ByteBuffer(bytes: wrapped.ciphertext)),
                    \(wrapped.kek.keyID), \(wrapped.kek.version), \(scopes))
            ON CONFLICT (provider) DO UPDATE
               SET client_id = EXCLUDED.client_id, client_secret = EXCLUDED.client_secret, wrapped_key = EXCLUDED.wrapped_key,
                   kek_id = EXCLUDED.kek_id, kek_version = EXCLUDED.kek_version, scopes = EXCLUDED.scopes, updated_at = now()
            RETURNING id, provider, client_id, scopes, created_at, updated_at
            """
        ).collect()
        return (try TenantTransaction.record(rows[0], source: .platform), existing == nil)
    }

    public func platformOAuthApps() async throws -> [OAuthAppRecord] {
        try await query("SELECT \(unescaped: OAuthAppRecord.columns) FROM platform_oauth_apps ORDER BY provider")
            .collect().map { try TenantTransaction.record($0, source: .platform) }
    }

    public func platformOAuthApp(provider: String) async throws -> OAuthAppRecord? {
        try await query(
            "SELECT \(unescaped: OAuthAppRecord.columns) FROM platform_oauth_apps WHERE provider = \(provider)"
        )
        .collect().first.map { try TenantTransaction.record($0, source: .platform) }
    }

    public func deletePlatformOAuthApp(provider: String) async throws -> Bool {
        try await query("DELETE FROM platform_oauth_apps WHERE provider = \(provider) RETURNING id").decode(UUID.self).collect().isEmpty == false
    }

    func platformOAuthClientCredentials(provider: String) async throws -> OAuthClientCredentials? {
        let rows = try await query(
            "SELECT id, client_id, client_secret, wrapped_key, kek_id, kek_version, scopes FROM platform_oauth_apps WHERE provider = \(provider)"
        ).collect()
        guard let first = rows.first else { return nil }
        let row = NamedRow(first, table: Self.platformTable)
        let sealed: ByteBuffer = try row("client_secret")
        let secret = try await vault.openPlatformSecret(
            sealed.readableBytesView,
            wrapped: try row.wrappedKey(),
            table: Self.platformTable,
            row: try row("id"),
            field: "client_secret"
        )
        return OAuthClientCredentials(
            clientID: try row("client_id"),
            clientSecret: String(decoding: secret, as: UTF8.self),
            scopes: try row("scopes"),
            source: .platform
        )
    }
}

extension Database {
    /// The OAuth client the connect flow uses for `tenant` at `provider`: its own app, else the platform default.
    public func oauthClientCredentials(provider: String, tenant: TenantID, logger: Logger) async throws -> OAuthClientCredentials? {
        if let own = try await withTenant(tenant, logger: logger, { try await $0.ownOAuthClientCredentials(provider: provider) }) {
            return own
        }
        return try await withOperator(logger: logger) { try await $0.platformOAuthClientCredentials(provider: provider) }
    }

    /// The app the tenant would use for `provider`, as lists show it: its own, else the platform default.
    public func effectiveOAuthApp(provider: String, tenant: TenantID, logger: Logger) async throws -> OAuthAppRecord? {
        if let own = try await withTenant(tenant, logger: logger, { try await $0.oauthApp(provider: provider) }) { return own }
        return try await withOperator(logger: logger) { try await $0.platformOAuthApp(provider: provider) }
    }
}
