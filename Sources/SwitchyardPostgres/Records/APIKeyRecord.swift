import Foundation
import PostgresNIO
import SwitchyardCore

/// A row of `api_keys`, without its hash.
public struct APIKeyRecord: Sendable, Equatable {
    public let id: UUID
    public let tenantID: TenantID
    public let name: String
    public let displayPrefix: String
    public let scopes: Set<APIKeyScope>
    public let createdBy: String
    public let expiresAt: Date?
    public let revokedAt: Date?
    public let lastUsedAt: Date?
    public let createdAt: Date

    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "api_keys")
        id = try row("id")
        tenantID = TenantID(try row("tenant_id"))
        name = try row("name")
        displayPrefix = try row("display_prefix")
        scopes = Set(try row.values("scopes", as: APIKeyScope.self))
        createdBy = try row("created_by")
        expiresAt = try row("expires_at")
        revokedAt = try row("revoked_at")
        lastUsedAt = try row("last_used_at")
        createdAt = try row("created_at")
    }

    /// Whether the key authenticates at `now`.
    public func isActive(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { $0 > now } ?? true)
    }
}

/// What a new key is made of; the secret itself travels back to the caller once.
public struct NewAPIKey: Sendable {
    public var name: String
    public var scopes: Set<APIKeyScope>
    public var expiresAt: Date?
    /// Who asked for it: `operator` or the creating key's display prefix.
    public var createdBy: String

    public init(name: String, scopes: Set<APIKeyScope>, expiresAt: Date?, createdBy: String) {
        self.name = name
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.createdBy = createdBy
    }
}

extension TenantTransaction {
    public func createAPIKey(_ new: NewAPIKey) async throws -> (record: APIKeyRecord, secret: APIKeySecret) {
        let secret = APIKeySecret.generate()
        let scopes = new.scopes.sorted().map(\.rawValue)
        let rows = try await query(
            """
            INSERT INTO api_keys (tenant_id, id, name, display_prefix, secret_hash, scopes, created_by, expires_at)
            VALUES (\(tenantID.rawValue), \(UUID.v7()), \(new.name), \(secret.displayPrefix), \(ByteBuffer(bytes: secret.hash)), \(scopes), \(new.createdBy), \(new.expiresAt))
            RETURNING id, tenant_id, name, display_prefix, scopes, created_by, expires_at, revoked_at, last_used_at, created_at
            """
        ).collect()
        return (try APIKeyRecord(row: rows[0]), secret)
    }

    public func apiKey(_ id: UUID) async throws -> APIKeyRecord? {
        try await query(
            """
            SELECT id, tenant_id, name, display_prefix, scopes, created_by, expires_at, revoked_at, last_used_at, created_at
              FROM api_keys WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
            """
        ).collect().first.map(APIKeyRecord.init(row:))
    }

    public func apiKeys(_ page: PageRequest) async throws -> Page<APIKeyRecord> {
        let after = page.cursor?.lastID
        let rows = try await query(
            """
            SELECT id, tenant_id, name, display_prefix, scopes, created_by, expires_at, revoked_at, last_used_at, created_at
              FROM api_keys
             WHERE tenant_id = \(tenantID.rawValue) AND (\(after)::uuid IS NULL OR id > \(after))
             ORDER BY id LIMIT \(page.limit + 1)
            """
        ).collect()
        return Page(fetched: try rows.map(APIKeyRecord.init(row:)), limit: page.limit, id: \.id)
    }

    /// Marks the key revoked (idempotent: a second revoke keeps the first time). `nil` when it does not exist.
    public func revokeAPIKey(_ id: UUID) async throws -> APIKeyRecord? {
        try await query(
            """
            UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
            RETURNING id, tenant_id, name, display_prefix, scopes, created_by, expires_at, revoked_at, last_used_at, created_at
            """
        ).collect().first.map(APIKeyRecord.init(row:))
    }
}

extension OperatorTransaction {
    /// Finds the key whose SHA-256 is `hash`, across tenants, and notes its use (at most once a minute,
    /// so authentication does not write on every request).
    public func authenticateAPIKey(hash: [UInt8]) async throws -> APIKeyRecord? {
        // One statement: the data-modifying CTE runs even though the SELECT does not read it.
        try await query(
            """
            WITH touched AS (
                UPDATE api_keys SET last_used_at = now()
                 WHERE secret_hash = \(ByteBuffer(bytes: hash))
                   AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
            )
            SELECT id, tenant_id, name, display_prefix, scopes, created_by, expires_at, revoked_at, last_used_at, created_at
              FROM api_keys WHERE secret_hash = \(ByteBuffer(bytes: hash))
            """
        ).collect().first.map(APIKeyRecord.init(row:))
    }
}
