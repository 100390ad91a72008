import Foundation
import NIOCore
import PostgresNIO
import SwitchyardCore

// Single-row reads by key that every call through an integration makes (a workflow's http step, a sync's page, the
// proxy), prepared once per connection (`StatementPreparation`): planning them cost several times their execution,
// about 0.16 ms for the integration's row alone (`bench workflow`, pg_stat_statements).

/// An integration by id.
struct IntegrationByIDStatement: PostgresPreparedStatement {
    static let name = "switchyard_integration_by_id_v1"
    static let sql = "SELECT \(IntegrationRecord.columns) FROM integrations WHERE tenant_id = $1::uuid AND id = $2::uuid"

    let tenant: UUID
    let id: UUID

    func makeBindings() throws -> PostgresBindings { try bindings(tenant, id) }
    func decodeRow(_ row: PostgresRow) throws -> IntegrationRecord { try IntegrationRecord(row: row) }
}

/// An integration's sealed credential.
struct SealedCredentialStatement: PostgresPreparedStatement {
    static let name = "switchyard_sealed_credential_v1"
    static let sql = "SELECT secret FROM integration_credentials WHERE tenant_id = $1::uuid AND integration_id = $2::uuid"

    let tenant: UUID
    let integration: UUID

    func makeBindings() throws -> PostgresBindings { try bindings(tenant, integration) }
    func decodeRow(_ row: PostgresRow) throws -> ByteBuffer { try row.decode(ByteBuffer.self) }
}

/// A tenant's own provider by id.
struct CustomProviderByIDStatement: PostgresPreparedStatement {
    static let name = "switchyard_custom_provider_by_id_v1"
    static let sql = "SELECT id, definition::text, created_at, updated_at FROM custom_providers WHERE tenant_id = $1::uuid AND id = $2::text"

    let tenant: UUID
    let id: String

    func makeBindings() throws -> PostgresBindings { try bindings(tenant, id) }
    func decodeRow(_ row: PostgresRow) throws -> CustomProviderRecord {
        let (id, definition, createdAt, updatedAt) = try row.decode((String, String, Date, Date).self)
        return CustomProviderRecord(id: id, definition: definition, createdAt: createdAt, updatedAt: updatedAt)
    }
}
