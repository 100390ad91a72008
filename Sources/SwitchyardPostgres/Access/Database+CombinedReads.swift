import Foundation
import Logging
import PostgresNIO
import SwitchyardCore

/// The hot reads of `GET /v1/me` and `GET /v1/integrations/{id}`, combined across requests (`ReadCombiner`): under
/// load, one statement on one shelved connection reads for several requests, each read under its own tenant
/// (migration 0046), so that the connection carries no tenant once the statement ends.
///
/// One lane per kind of read: `bench api` measured `/v1/me` at 0.36-0.37 of `/healthz` with one lane (about seven reads
/// a batch at saturation), 0.35 with two, 0.31 with four and 0.25 uncombined; a read on an idle system still runs at
/// once. A batch reads at most 64 keys.
final class CombinedReads: Sendable {
    let tenants = ReadCombiner<UUID, TenantRecord>(lanes: 1, batchLimit: 64)
    let integrations = ReadCombiner<TenantScopedID, IntegrationRecord>(lanes: 1, batchLimit: 64)
}

/// A row's key within its tenant.
struct TenantScopedID: Hashable, Sendable {
    let tenant: UUID
    let id: UUID
}

extension Database {
    /// Tenant `tenantID`'s own row, or `nil` once it has been deleted.
    public func currentTenant(_ tenantID: TenantID, logger: Logger) async throws -> TenantRecord? {
        try await combinedReads.tenants.read(tenantID.rawValue) { tenants in
            let rows = try await readBatch(ReadTenantsStatement(tenants: tenants), logger: logger)
            return Dictionary(rows.map { ($0.id.rawValue, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Tenant `tenantID`'s integration `id`, or `nil` when it has none of that id.
    public func integration(_ id: UUID, of tenantID: TenantID, logger: Logger) async throws -> IntegrationRecord? {
        try await combinedReads.integrations.read(TenantScopedID(tenant: tenantID.rawValue, id: id)) { keys in
            let rows = try await readBatch(ReadIntegrationsByIDStatement(keys: keys), logger: logger)
            return Dictionary(rows.map { ($0.key, $0.record) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Runs a batch's statement on a shelved connection, as `readAsTenant` runs its reads.
    private func readBatch<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws -> [Statement.Row]
    where Statement.Row: Sendable {
        metrics?.connectionLeased()
        defer { metrics?.connectionReturned() }
        do {
            return try await shelvedConnection(deadlines: deadlines) { connection in
                try await connection.guardedExecute(statement, statements, logger: logger)
            }
        } catch {
            throw DatabaseError.translate(error)
        }
    }
}
