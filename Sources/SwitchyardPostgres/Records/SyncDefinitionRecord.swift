import Foundation
import PostgresNIO
import SwitchyardCore

/// A tenant's own sync definition for one provider, kept as the JSON document the API accepted. `version` grows by
/// one each time the document changes.
public struct SyncDefinitionRecord: Sendable, Equatable {
    public let provider: String
    public let name: String
    public let version: Int
    public let definition: String
    public let createdAt: Date
    public let updatedAt: Date

    static let columns = "provider, name, version, definition::text AS definition, created_at, updated_at"

    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "sync_definitions")
        provider = try row("provider")
        name = try row("name")
        version = try row("version")
        definition = try row("definition")
        createdAt = try row("created_at")
        updatedAt = try row("updated_at")
    }
}

extension TenantTransaction {
    /// The tenant's definitions for `provider`, by name.
    public func syncDefinitions(provider: String) async throws -> [SyncDefinitionRecord] {
        try await query(
            """
            SELECT \(unescaped: SyncDefinitionRecord.columns) FROM sync_definitions
             WHERE tenant_id = \(tenantID.rawValue) AND provider = \(provider) ORDER BY name
            """
        ).collect().map(SyncDefinitionRecord.init(row:))
    }

    public func syncDefinition(provider: String, name: String) async throws -> SyncDefinitionRecord? {
        try await query(
            """
            SELECT \(unescaped: SyncDefinitionRecord.columns) FROM sync_definitions
             WHERE tenant_id = \(tenantID.rawValue) AND provider = \(provider) AND name = \(name)
            """
        ).collect().first.map(SyncDefinitionRecord.init(row:))
    }

    /// Creates the definition, or replaces it with a new version when the document differs.
    public func saveSyncDefinition(provider: String, name: String, definition: String) async throws -> SyncDefinitionRecord {
        try await query(
            """
            INSERT INTO sync_definitions (tenant_id, provider, name, definition) VALUES (\(tenantID.rawValue), \(provider), \(name), \(definition)::jsonb)
            ON CONFLICT (tenant_id, provider, name) DO UPDATE
               SET definition = EXCLUDED.definition,
                   version = sync_definitions.version + CASE WHEN sync_definitions.definition = EXCLUDED.definition THEN 0 ELSE 1 END,
                   updated_at = now()
            RETURNING \(unescaped: SyncDefinitionRecord.columns)
            """
        ).collect().map(SyncDefinitionRecord.init(row:))[0]
    }

    /// Deletes the definition with the integrations' state of it; their records stay until the integration goes.
    public func deleteSyncDefinition(provider: String, name: String) async throws -> Bool {
        let deleted = try await query(
            "DELETE FROM sync_definitions WHERE tenant_id = \(tenantID.rawValue) AND provider = \(provider) AND name = \(name) RETURNING name"
        ).decode(String.self).collect()
        guard !deleted.isEmpty else { return false }
        try await query(
            """
            DELETE FROM integration_syncs s USING integrations i
             WHERE s.tenant_id = \(tenantID.rawValue) AND i.tenant_id = s.tenant_id AND i.id = s.integration_id
               AND i.provider = \(provider) AND s.sync_name = \(name)
            """
        )
        return true
    }
}
