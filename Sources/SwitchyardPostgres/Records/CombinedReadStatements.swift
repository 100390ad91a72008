import Foundation
import NIOCore
import PostgresNIO
import SwitchyardCore
import SwitchyardVault

// The statements of the reads combined across requests (`Database+CombinedReads.swift`, migrations 0046 and 0047, set-based since 0048).

/// An integration and its opened credential (`nil` when it has none), read in one audited statement.
public struct CredentialRead: Sendable {
    public let integration: IntegrationRecord
    public let credential: IntegrationCredential?
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

/// One audited credential read of a batch: who reads which integration, and the audit event that records the read
/// (its id tells the reads of a batch apart).
struct CredentialReadRequest: Hashable, Sendable {
    let tenant: UUID
    let integration: UUID
    let auditID = UUID.v7()
    let audit: NewAuditEvent
    let details: String

    init(tenant: UUID, integration: UUID, audit: NewAuditEvent) {
        self.tenant = tenant
        self.integration = integration
        self.audit = audit
        self.details = audit.detailsJSON
    }

    static func == (left: Self, right: Self) -> Bool { left.auditID == right.auditID }
    func hash(into hasher: inout Hasher) { hasher.combine(auditID) }
}

/// `app_read_credentials` (`Database.auditedCredential`): for each read whose integration exists, the read's audit
/// id, the integration, its sealed credential and the data key that sealed it. An array cannot carry NULL here
/// (postgres-nio encodes no optional elements): a missing resource or request id goes as '', which the function
/// records as NULL.
struct ReadCredentialsStatement: PostgresPreparedStatement {
    static let name = "switchyard_read_credentials_v1"
    static let sql = """
        SELECT audit_id, \(IntegrationRecord.columns), secret, dek_id, wrapped_key, kek_id, kek_version
          FROM app_read_credentials($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
        """

    struct Row: Sendable {
        let auditID: UUID
        let integration: IntegrationRecord
        let secret: ByteBuffer?
        let dataKeyID: UUID?
        let wrappedKey: WrappedDataKey?
    }

    let requests: [CredentialReadRequest]

    func makeBindings() throws -> PostgresBindings {
        try bindings(
            requests.map(\.tenant),
            requests.map(\.integration),
            requests.map(\.auditID),
            requests.map(\.audit.actor),
            requests.map(\.audit.action),
            requests.map(\.audit.resourceType),
            requests.map { $0.audit.resourceID ?? "" },
            requests.map { $0.audit.requestID ?? "" },
            requests.map(\.details)
        )
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let named = NamedRow(row, table: "integration_credentials")
        let wrappedKeyBytes: ByteBuffer? = try named("wrapped_key")
        return Row(
            auditID: try named("audit_id"),
            integration: try IntegrationRecord(row: row),
            secret: try named("secret"),
            dataKeyID: try named("dek_id"),
            wrappedKey: wrappedKeyBytes == nil ? nil : try named.wrappedKey()
        )
    }
}
