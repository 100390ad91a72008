import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SwitchyardCore
import SwitchyardMetrics

/// The application's only door to PostgreSQL.
///
/// Tenant rows are reachable only through `withTenant`, which sets `app.tenant_id` for one transaction
/// (REQUIREMENTS PG-2, PG-3); row-level security does the rest. `withOperator` is the platform operator's
/// cross-tenant view (tenant administration and API key lookup). The raw client stays private, so code
/// outside this module cannot run SQL that forgot its tenant.
public struct Database: Sendable, Service {
    private let client: PostgresClient
    /// The webhook ingest writer's own connections, logged in with `app.ingest = on` for their whole session:
    /// each batch is then one autocommitted statement (one round trip, one WAL flush). Nothing else uses them.
    private let ingestClient: PostgresClient
    static let ingestConnections = 4
    private let metrics: DatabaseMetrics?
    /// Seals and opens tenants' secrets inside their transactions.
    public let vault: Vault

    public init(configuration: DatabaseConfiguration, vault: Vault, metrics: DatabaseMetrics?, logger: Logger) throws {
        self.client = PostgresClient(
            configuration: try .init(configuration.url, role: .application(
                maxConnections: configuration.maxConnections,
                statementTimeoutMilliseconds: configuration.statementTimeoutMilliseconds
            )),
            backgroundLogger: logger
        )
        self.ingestClient = PostgresClient(
            configuration: try .init(configuration.url, role: .ingest(
                maxConnections: Self.ingestConnections, statementTimeoutMilliseconds: configuration.statementTimeoutMilliseconds
            )),
            backgroundLogger: logger
        )
        self.metrics = metrics
        self.vault = vault
        metrics?.setPoolSize(configuration.maxConnections)
    }

    /// Runs the connection pools until graceful shutdown.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await client.run() }
            group.addTask { await ingestClient.run() }
        }
    }

    /// Runs `body` in a transaction that can see and write only `tenantID`'s rows.
    public func withTenant<Result: Sendable>(
        _ tenantID: TenantID,
        logger: Logger,
        _ body: (TenantTransaction) async throws -> Result
    ) async throws -> Result {
        try await transaction(logger: logger) { connection in
            try await connection.query("SELECT set_config('app.tenant_id', \(tenantID.description), true)", logger: logger)
            return try await body(TenantTransaction(connection: connection, tenantID: tenantID, vault: vault, logger: logger))
        }
    }

    /// Runs `body` in a transaction with the platform operator's cross-tenant view.
    public func withOperator<Result: Sendable>(
        logger: Logger,
        _ body: (OperatorTransaction) async throws -> Result
    ) async throws -> Result {
        try await transaction(enabling: "app.operator", logger: logger) { connection in
            try await body(OperatorTransaction(connection: connection, vault: vault, logger: logger))
        }
    }

    /// Runs `body` in a transaction of the job queue's machinery (executors, schedulers): it sees the
    /// `jobs` and `job_schedules` rows of every tenant, because claiming is cross-tenant, and nothing
    /// else of any tenant (their policies alone name `app_is_queue()`).
    public func withQueue<Result: Sendable>(
        logger: Logger,
        _ body: (QueueTransaction) async throws -> Result
    ) async throws -> Result {
        try await transaction(enabling: "app.queue", logger: logger) { connection in
            try await body(QueueTransaction(connection: connection, logger: logger))
        }
    }

    /// Holds one pooled connection and calls `onNotification` for each NOTIFY on `channel` until
    /// the task is cancelled or the connection fails (which throws, so the caller can reconnect).
    public func listen(channel: String, logger: Logger, onNotification: @Sendable () -> Void) async throws {
        try await client.withConnection { connection in
            try await connection.listen(on: channel) { notifications in
                for try await _ in notifications { onNotification() }
            }
        }
    }

    /// Runs `body` while holding the session advisory lock `key` on a connection of its own, or returns
    /// `nil` at once when another session holds it. The lock goes with the connection: a process that
    /// dies loses it, which is what makes it a leader lock.
    public func withSessionLock<Result: Sendable>(
        _ key: Int64, logger: Logger, _ body: () async throws -> Result
    ) async throws -> Result? {
        try await client.withConnection { connection in
            let acquired = try await connection.query("SELECT pg_try_advisory_lock(\(key))", logger: logger).decode(Bool.self).collect().first ?? false
            guard acquired else { return nil }
            do {
                let result = try await body()
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(key))", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(key))", logger: logger)
                throw error
            }
        }
    }

    /// Runs `body` on a connection of the webhook ingest writer: it may insert (and read back) webhook
    /// events of any tenant, having verified each with that tenant's own secret, and enqueue their jobs;
    /// nothing else. Each statement commits on its own.
    public func withIngest<Result: Sendable>(
        logger: Logger,
        _ body: (IngestSession) async throws -> Result
    ) async throws -> Result {
        do {
            return try await ingestClient.withConnection { connection in
                try await body(IngestSession(connection: connection, logger: logger))
            }
        } catch {
            throw DatabaseError.translate(error)
        }
    }

    /// Reads facts about the schema and the connected role, for start-up checks and `/readyz`.
    public func withCatalog<Result: Sendable>(
        logger: Logger,
        _ body: (CatalogReader) async throws -> Result
    ) async throws -> Result {
        try await transaction(logger: logger) { connection in
            try await body(CatalogReader(connection: connection, logger: logger))
        }
    }

    /// A transaction in which the boolean setting `name` (`app.operator`, `app.queue`) is on, for it alone.
    private func transaction<Result: Sendable>(
        enabling name: String, logger: Logger, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await transaction(logger: logger) { connection in
            try await connection.query("SELECT set_config(\(name), 'on', true)", logger: logger)
            return try await body(connection)
        }
    }

    private func transaction<Result: Sendable>(
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        metrics?.connectionLeased()
        defer { metrics?.connectionReturned() }
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await body(connection)
            }
        } catch let error as PostgresTransactionError {
            // postgres-nio wraps the closure's error; callers want the domain error they threw.
            if let closureError = error.closureError { throw DatabaseError.translate(closureError) }
            throw DatabaseError.translate(error.beginError ?? error.commitError ?? error.rollbackError ?? error)
        } catch {
            throw DatabaseError.translate(error)
        }
    }
}
