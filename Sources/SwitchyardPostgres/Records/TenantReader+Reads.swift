import Foundation
import NIOCore
import PostgresNIO
import SwitchyardCore
import SwitchyardVault

/// An integration and its opened credential (`nil` when it has none), read in one audited statement.
public struct CredentialRead: Sendable {
    public let integration: IntegrationRecord
    public let credential: IntegrationCredential?
}

extension TenantReader {
    /// A page of the tenant's integrations, in id order.
    public func integrations(_ filter: IntegrationFilter, page: PageRequest) async throws -> Page<IntegrationRecord> {
        let statement = ReadIntegrationsStatement(tenant: tenantID.rawValue, filter: filter, after: page.cursor?.lastID, limit: page.limit + 1)
        return Page(fetched: try await connection.guardedExecute(statement, statements, logger: logger), limit: page.limit, id: \.id)
    }

    /// Integration `id` with its opened credential, recording `audit` in the same statement when the integration
    /// exists; `nil` when it does not. Returns once that statement's commit is known (`guardedAutocommit`): a
    /// credential is never handed out unless its read is in the audit log, as when it took a transaction of its own.
    public func auditedCredential(_ id: UUID, audit: NewAuditEvent) async throws -> CredentialRead? {
        let statement = try ReadCredentialStatement(tenant: tenantID.rawValue, id: id, audit: audit)
        guard let row = try await connection.guardedAutocommit(statement, statements, logger: logger).first else { return nil }
        guard let secret = row.secret else { return CredentialRead(integration: row.integration, credential: nil) }
        let document = try await vault.open(secret.readableBytesView, field: .integrationCredential, row: id, tenant: tenantID) { keyID in
            keyID == row.dataKeyID ? row.wrappedKey : nil
        }
        return CredentialRead(integration: row.integration, credential: try JSONDecoder().decode(IntegrationCredential.self, from: Data(document)))
    }
}

/// `app_read_tenants` (`Database.currentTenant`): the columns of `TenantRecord`, a row per tenant of `tenants` that
/// exists.
struct ReadTenantsStatement: PostgresPreparedStatement {
    static let name = "switchyard_read_tenants_v1"
    static let sql = "SELECT id, slug, name, created_at, updated_at, connect_return_origins FROM app_read_tenants($1::uuid[])"

    let tenants: [UUID]

    func makeBindings() throws -> PostgresBindings { try bindings(tenants) }
    func decodeRow(_ row: PostgresRow) throws -> TenantRecord { try TenantRecord(row: row) }
}

/// `app_read_integrations_by_id` (`Database.integration(_:of:logger:)`): the tenant and the columns of
/// `IntegrationRecord`, a row per key of `keys` found.
struct ReadIntegrationsByIDStatement: PostgresPreparedStatement {
    static let name = "switchyard_read_integrations_by_id_v1"
    static let sql = "SELECT tenant_id, \(IntegrationRecord.columns) FROM app_read_integrations_by_id($1::uuid[], $2::uuid[])"

    let keys: [TenantScopedID]

    func makeBindings() throws -> PostgresBindings { try bindings(keys.map(\.tenant), keys.map(\.id)) }
    func decodeRow(_ row: PostgresRow) throws -> (key: TenantScopedID, record: IntegrationRecord) {
        let record = try IntegrationRecord(row: row)
        return (TenantScopedID(tenant: try NamedRow(row, table: "integrations")("tenant_id"), id: record.id), record)
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

/// `app_read_credential`: the integration, its sealed credential and the data key that sealed it; the audit event
/// goes in as parameters.
struct ReadCredentialStatement: PostgresPreparedStatement {
    static let name = "switchyard_read_credential_v1"
    static let sql = """
        SELECT \(IntegrationRecord.columns), secret, dek_id, wrapped_key, kek_id, kek_version
          FROM app_read_credential($1::uuid, $2::uuid, $3::uuid, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text)
        """

    struct Row: Sendable {
        let integration: IntegrationRecord
        let secret: ByteBuffer?
        let dataKeyID: UUID?
        let wrappedKey: WrappedDataKey?
    }

    let tenant: UUID
    let id: UUID
    let audit: NewAuditEvent
    let auditID = UUID.v7()
    let details: String

    init(tenant: UUID, id: UUID, audit: NewAuditEvent) throws {
        self.tenant = tenant
        self.id = id
        self.audit = audit
        self.details = String(decoding: try JSONEncoder().encode(audit.details), as: UTF8.self)
    }

    func makeBindings() throws -> PostgresBindings {
        try bindings(tenant, id, auditID, audit.actor, audit.action, audit.resourceType, audit.resourceID, audit.requestID, details)
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let named = NamedRow(row, table: "integration_credentials")
        let wrappedKeyBytes: ByteBuffer? = try named("wrapped_key")
        return Row(
            integration: try IntegrationRecord(row: row),
            secret: try named("secret"),
            dataKeyID: try named("dek_id"),
            wrappedKey: wrappedKeyBytes == nil ? nil : try named.wrappedKey()
        )
    }
}
