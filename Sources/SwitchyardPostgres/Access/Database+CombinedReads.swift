import Foundation
import Logging
import PostgresNIO
import SwitchyardCore

/// The hot reads of `GET /v1/me`, `GET /v1/integrations/{id}` and its credentials, combined across requests
/// (`BatchCombiner`): under load, one set-based statement on one shelved connection reads for several requests
/// (migration 0048). Row-level security admits only the rows of the batch's tenants, listed for that statement alone,
/// and the statement pairs each read with its own tenant's row; the connection carries no tenant once it ends. A
/// batch's errors are logged with the request metadata of its first read.
///
/// One lane per kind of read: `bench api` measured `/v1/me` at 0.36-0.37 of `/healthz` with one lane (about seven reads
/// a batch at saturation), 0.35 with two, 0.31 with four and 0.25 uncombined; a read on an idle system still runs at
/// once. A batch reads at most 64 keys.
final class CombinedReads: Sendable {
    let tenants = BatchCombiner<UUID, TenantRecord>(lanes: 1, batchLimit: 64)
    let integrations = BatchCombiner<TenantScopedID, IntegrationRecord>(lanes: 1, batchLimit: 64)
    let credentials = BatchCombiner<CredentialReadRequest, ReadCredentialsStatement.Row>(lanes: 1, batchLimit: 64)
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

    /// Tenant `tenantID`'s integration `id` with its opened credential, recording `audit` in the statement that reads
    /// it when the integration exists; `nil` when it does not. Returns once that statement's commit is known
    /// (`guardedAutocommit`): a credential is never handed out unless its read is in the audit log. The reads of a
    /// batch share that commit.
    public func auditedCredential(_ id: UUID, of tenantID: TenantID, audit: NewAuditEvent, logger: Logger) async throws -> CredentialRead? {
        let request = CredentialReadRequest(tenant: tenantID.rawValue, integration: id, audit: audit)
        let read = try await combinedReads.credentials.read(request) { requests in
            let rows = try await readBatch(ReadCredentialsStatement(requests: requests), confirmingCommit: true, logger: logger)
            let byAuditID = Dictionary(rows.map { ($0.auditID, $0) }, uniquingKeysWith: { first, _ in first })
            return Dictionary(uniqueKeysWithValues: requests.compactMap { request in byAuditID[request.auditID].map { (request, $0) } })
        }
        guard let read else { return nil }
        guard let secret = read.secret else { return CredentialRead(integration: read.integration, credential: nil) }
        do {
            let document = try await vault.open(secret.readableBytesView, field: .integrationCredential, row: id, tenant: tenantID) { keyID in
                keyID == read.dataKeyID ? read.wrappedKey : nil
            }
            return CredentialRead(
                integration: read.integration,
                credential: try JSONDecoder().decode(IntegrationCredential.self, from: Data(document))
            )
        } catch let unreadable as SecretUnreadable {
            await report(unreadable, logger: logger)
            throw unreadable
        }
    }

    /// Runs a batch's statement (`autocommitted`); with `confirmingCommit`, returns once its commit is known.
    private func readBatch<Statement: PostgresPreparedStatement>(
        _ statement: Statement,
        confirmingCommit: Bool = false,
        logger: Logger
    ) async throws -> [Statement.Row] where Statement.Row: Sendable {
        try await autocommitted { connection in
            confirmingCommit
                ? try await connection.guardedAutocommit(statement, statements, logger: logger)
                : try await connection.guardedExecute(statement, statements, logger: logger)
        }
    }
}
