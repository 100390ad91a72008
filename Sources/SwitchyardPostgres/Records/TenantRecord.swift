import Foundation
import PostgresNIO
import SwitchyardCore

/// A row of `tenants`.
public struct TenantRecord: Sendable, Equatable {
    public let id: TenantID
    public let slug: String
    public let name: String
    public let createdAt: Date
    public let updatedAt: Date
    /// Origins (`https://app.example.com`) a connect flow may send the end user back to (REQUIREMENTS OA-3).
    public let connectReturnOrigins: [String]

    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "tenants")
        self.init(
            id: TenantID(try row("id")),
            slug: try row("slug"),
            name: try row("name"),
            createdAt: try row("created_at"),
            updatedAt: try row("updated_at"),
            connectReturnOrigins: try row("connect_return_origins")
        )
    }

    public init(id: TenantID, slug: String, name: String, createdAt: Date, updatedAt: Date, connectReturnOrigins: [String] = []) {
        self.id = id
        self.slug = slug
        self.name = name
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.connectReturnOrigins = connectReturnOrigins
    }
}

extension OperatorTransaction {
    public func createTenant(slug: String, name: String) async throws -> TenantRecord {
        do {
            let rows = try await query(
                "INSERT INTO tenants (id, slug, name) VALUES (\(UUID.v7()), \(slug), \(name)) RETURNING id, slug, name, created_at, updated_at, connect_return_origins"
            ).collect()
            let tenant = try TenantRecord(row: rows[0])
            try await createDataKey(for: tenant.id)
            return tenant
        } catch let error as PSQLError where error.isUniqueViolation {
            throw SwitchyardError.conflict("A tenant with slug '\(slug)' already exists.")
        }
    }

    public func tenant(_ id: TenantID) async throws -> TenantRecord? {
        try await query("SELECT id, slug, name, created_at, updated_at, connect_return_origins FROM tenants WHERE id = \(id.rawValue)")
            .collect().first.map(TenantRecord.init(row:))
    }

    public func tenant(slug: String) async throws -> TenantRecord? {
        try await query("SELECT id, slug, name, created_at, updated_at, connect_return_origins FROM tenants WHERE slug = \(slug)")
            .collect().first.map(TenantRecord.init(row:))
    }

    public func tenants(_ page: PageRequest) async throws -> Page<TenantRecord> {
        let after = page.cursor?.lastID
        let rows = try await query(
            """
            SELECT id, slug, name, created_at, updated_at, connect_return_origins FROM tenants
             WHERE \(after)::uuid IS NULL OR id > \(after)
             ORDER BY id LIMIT \(page.limit + 1)
            """
        ).collect()
        return Page(fetched: try rows.map(TenantRecord.init(row:)), limit: page.limit, id: \.id.rawValue)
    }

    /// Applies the given changes; `nil` fields stay as they are.
    public func updateTenant(_ id: TenantID, slug: String?, name: String?, connectReturnOrigins: [String]? = nil) async throws -> TenantRecord? {
        do {
            return try await query(
                """
                UPDATE tenants SET slug = coalesce(\(slug), slug), name = coalesce(\(name), name),
                       connect_return_origins = coalesce(\(connectReturnOrigins), connect_return_origins), updated_at = now()
                 WHERE id = \(id.rawValue)
                RETURNING id, slug, name, created_at, updated_at, connect_return_origins
                """
            ).collect().first.map(TenantRecord.init(row:))
        } catch let error as PSQLError where error.isUniqueViolation {
            throw SwitchyardError.conflict("A tenant with slug '\(slug ?? "")' already exists.")
        }
    }

    /// Deletes the tenant and, in the same transaction, everything it owns, its data keys included
    /// (crypto-shredding, REQUIREMENTS EN-4): a copy of its ciphertexts cannot be opened afterwards. Most tables
    /// cascade from the tenant's row; its jobs, audit events and delivered first attempts, which have no key to it
    /// (migrations 0044 and 0045), are purged by `app_purge_deleted_tenant`, which leaves the tombstone that
    /// housekeeping sweeps.
    public func deleteTenant(_ id: TenantID) async throws -> Bool {
        let deleted =
            try await query("DELETE FROM tenants WHERE id = \(id.rawValue) RETURNING id")
            .decode(UUID.self).collect().isEmpty == false
        if deleted {
            _ = try await query("SELECT app_purge_deleted_tenant(\(id.rawValue))").collect()
        }
        vault.forget(tenant: id)
        return deleted
    }
}

extension TenantTransaction {
    /// The tenant this transaction is scoped to.
    public func currentTenant() async throws -> TenantRecord? {
        try await query("SELECT id, slug, name, created_at, updated_at, connect_return_origins FROM tenants WHERE id = \(tenantID.rawValue)")
            .collect().first.map(TenantRecord.init(row:))
    }
}
