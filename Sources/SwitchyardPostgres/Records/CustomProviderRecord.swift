import Foundation
import PostgresNIO
import SwitchyardCore

/// A tenant's own provider definition, kept as the JSON document the API accepted.
public struct CustomProviderRecord: Sendable, Equatable {
    public let id: String
    public let definition: String
    public let createdAt: Date
    public let updatedAt: Date
}

extension TenantTransaction {
    public func customProviders() async throws -> [CustomProviderRecord] {
        try await query(
            "SELECT id, definition::text, created_at, updated_at FROM custom_providers WHERE tenant_id = \(tenantID.rawValue) ORDER BY id"
        )
        .decode((String, String, Date, Date).self).collect().map(CustomProviderRecord.init)
    }

    public func customProvider(_ id: String) async throws -> CustomProviderRecord? {
        try await connection.guardedExecute(CustomProviderByIDStatement(tenant: tenantID.rawValue, id: id), statements, logger: logger).first
    }

    /// Creates or replaces the tenant's provider `id`.
    public func saveCustomProvider(id: String, definition: String) async throws -> CustomProviderRecord {
        try await query(
            """
            INSERT INTO custom_providers (tenant_id, id, definition) VALUES (\(tenantID.rawValue), \(id), \(definition)::jsonb)
            ON CONFLICT (tenant_id, id) DO UPDATE SET definition = EXCLUDED.definition, updated_at = now()
            RETURNING id, definition::text, created_at, updated_at
            """
        ).decode((String, String, Date, Date).self).collect().map(CustomProviderRecord.init)[0]
    }

    /// Deletes provider `id` and its sync definitions unless an integration still uses it (409). Returns whether it existed.
    public func deleteCustomProvider(_ id: String) async throws -> Bool {
        let users =
            try await query("SELECT count(*)::int FROM integrations WHERE tenant_id = \(tenantID.rawValue) AND provider = \(id)")
            .decode(Int.self).collect().first ?? 0
        guard users == 0 else {
            throw SwitchyardError.conflict("\(users) integration(s) still use provider '\(id)'; delete them first.")
        }
        let deleted =
            try await query("DELETE FROM custom_providers WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) RETURNING id")
            .decode(String.self).collect().isEmpty == false
        // Its sync definitions go with it: a provider created again with this id starts without them.
        if deleted { try await query("DELETE FROM sync_definitions WHERE tenant_id = \(tenantID.rawValue) AND provider = \(id)") }
        return deleted
    }
}
