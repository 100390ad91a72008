import Foundation
import PostgresNIO
import SwitchyardCore

extension TenantReader {
    /// A page of the tenant's integrations, in id order.
    public func integrations(_ filter: IntegrationFilter, page: PageRequest) async throws -> Page<IntegrationRecord> {
        let statement = ReadIntegrationsStatement(tenant: tenantID.rawValue, filter: filter, after: page.cursor?.lastID, limit: page.limit + 1)
        return Page(fetched: try await connection.guardedExecute(statement, statements, logger: logger), limit: page.limit, id: \.id)
    }
}

/// `app_read_integrations`: the columns of `IntegrationRecord`, `limit` rows at most.
struct ReadIntegrationsStatement: PostgresPreparedStatement {
    static let name = "switchyard_read_integrations_v1"
    static let sql =
        "SELECT \(IntegrationRecord.columns) FROM app_read_integrations($1::uuid, $2::uuid, $3::text, $4::text, $5::text, $6::int4)"

    let tenant: UUID
    let filter: IntegrationFilter
    let after: UUID?
    let limit: Int

    func makeBindings() throws -> PostgresBindings {
        try bindings(tenant, after, filter.provider, filter.status?.rawValue, filter.tag, Int32(clamping: limit))
    }
    func decodeRow(_ row: PostgresRow) throws -> IntegrationRecord { try IntegrationRecord(row: row) }
}
