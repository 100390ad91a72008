import Logging
import PostgresNIO
import SwitchyardCore

/// A pooled connection in autocommit on which one tenant's hot reads run, each as a single statement that sets the
/// tenant for itself alone (a function of migration 0036): PostgreSQL's row-level security sees only that tenant.
///
/// Only `Database.readAsTenant` creates one, and its reads are the only statements it runs (`TenantReader+Reads.swift`):
/// it has no `query`, since a statement of its own would run with no tenant set. Each read is its own transaction: two
/// reads of one `readAsTenant` do not share a snapshot (use `withTenant` where they must).
public struct TenantReader: Sendable {
    let connection: PostgresConnection
    public let tenantID: TenantID
    let logger: Logger
    let statements: StatementPreparation
}
