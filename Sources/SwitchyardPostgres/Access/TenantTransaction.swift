import Logging
import PostgresNIO
import SwitchyardCore
import SwitchyardVault

/// A connection (usually in a transaction) handed to record code for one kind of access; the kinds differ in
/// what PostgreSQL lets them see, not in how they run statements.
protocol ConnectionScope: Sendable {
    var connection: PostgresConnection { get }
    var logger: Logger { get }
}

extension ConnectionScope {
    @discardableResult
    func query(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        try await connection.guardedQuery(query, logger: logger, file: file, line: line)
    }
}

/// An open transaction in which PostgreSQL shows only one tenant's rows.
///
/// Only `Database.withTenant` creates one. Record operations are extensions on this type
/// (`TenantTransaction+APIKeys.swift`, ...), so a query that needs a tenant cannot be written without one.
public struct TenantTransaction: ConnectionScope {
    let connection: PostgresConnection
    public let tenantID: TenantID
    let vault: Vault
    let logger: Logger
    let statements: StatementPreparation
}

/// An open transaction with the platform operator's cross-tenant view (`app.operator = on`).
public struct OperatorTransaction: ConnectionScope {
    let connection: PostgresConnection
    let vault: Vault
    let logger: Logger
}

/// A connection of the webhook ingest writer: inserts events for any tenant, each statement its own transaction and
/// in the ingest mode (`app.ingest = on`) for that transaction alone (see `InsertWebhookEventsStatement`).
public struct IngestSession: ConnectionScope {
    let connection: PostgresConnection
    let logger: Logger
    let statements: StatementPreparation
}

/// An open transaction of the job queue's machinery (`app.queue = on`): every tenant's jobs and schedules, nothing else.
public struct QueueTransaction: ConnectionScope {
    let connection: PostgresConnection
    let logger: Logger
    let statements: StatementPreparation
}

/// A transaction of the usage writer (`app.usage = on`): adds every tenant's usage counts and prunes old ones; it
/// sees nothing else of any tenant.
public struct UsageWriterTransaction: ConnectionScope {
    let connection: PostgresConnection
    let logger: Logger
}

/// A transaction of the API's rate limiter (`app.rate_limiter = on`): leases tokens from every tenant's per-key
/// buckets and prunes full ones; it sees nothing else of any tenant.
public struct RateLimiterTransaction: ConnectionScope {
    let connection: PostgresConnection
    let logger: Logger
}

/// Read-only questions about the schema and the connected role, asked without any tenant.
public struct CatalogReader: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// The migration versions recorded in `schema_migrations`, or `nil` when the table does not exist.
    public func appliedMigrationVersions() async throws -> [Int]? {
        let exists =
            try await connection.guardedQuery("SELECT to_regclass('schema_migrations') IS NOT NULL" as PostgresQuery, logger: logger)
            .decode(Bool.self).collect().first ?? false
        guard exists else { return nil }
        return try await connection.guardedQuery("SELECT version FROM schema_migrations ORDER BY version" as PostgresQuery, logger: logger)
            .decode(Int.self).collect()
    }

    /// Facts about the connected role that REQUIREMENTS PG-1 constrains.
    public func currentRole() async throws -> RoleFacts {
        let rows = try await connection.guardedQuery(
            """
            SELECT current_user::text, r.rolsuper, r.rolbypassrls,
                   (SELECT count(*) FROM pg_class c
                      JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p')
                       AND n.nspname NOT IN ('pg_catalog', 'information_schema'))::int
              FROM pg_roles r WHERE r.rolname = current_user
            """ as PostgresQuery,
            logger: logger
        ).decode((String, Bool, Bool, Int).self).collect()
        guard let row = rows.first else { throw SwitchyardError.internal("pg_roles has no row for current_user") }
        return RoleFacts(name: row.0, isSuperuser: row.1, bypassesRowSecurity: row.2, ownedTableCount: row.3)
    }

    /// Tables with a `tenant_id` column, and whether each enables and forces row-level security.
    public func tenantTables() async throws -> [TenantTableFacts] {
        try await connection.guardedQuery(
            """
            SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
                   (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::int
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
               AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
                    OR c.relname = 'tenants')
             ORDER BY 1
            """ as PostgresQuery,
            logger: logger
        ).decode((String, Bool, Bool, Int).self).collect().map {
            TenantTableFacts(name: $0.0, rowSecurityEnabled: $0.1, rowSecurityForced: $0.2, policyCount: $0.3)
        }
    }

    /// The tenant this connection's current transaction is scoped to, if any.
    public func currentTenantSetting() async throws -> String? {
        try await connection.guardedQuery("SELECT nullif(current_setting('app.tenant_id', true), '')" as PostgresQuery, logger: logger)
            .decode(String?.self).collect().first ?? nil
    }
}

public struct RoleFacts: Sendable {
    public let name: String
    public let isSuperuser: Bool
    public let bypassesRowSecurity: Bool
    public let ownedTableCount: Int

    /// Why this role must not serve tenants (REQUIREMENTS PG-1), or `nil` when it may.
    public var isolationViolation: String? {
        if isSuperuser { return "role \(name) is a superuser, which bypasses row-level security" }
        if bypassesRowSecurity { return "role \(name) has BYPASSRLS" }
        if ownedTableCount > 0 { return "role \(name) owns \(ownedTableCount) tables; run migrations as the owner and serve as the application role" }
        return nil
    }
}

public struct TenantTableFacts: Sendable {
    public let name: String
    public let rowSecurityEnabled: Bool
    public let rowSecurityForced: Bool
    public let policyCount: Int
}
