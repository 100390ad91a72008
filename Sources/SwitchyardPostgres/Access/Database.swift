import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardVault

/// The application's only door to PostgreSQL.
///
/// Tenant rows are reachable only through `withTenant`, which sets `app.tenant_id` for one transaction
/// (REQUIREMENTS PG-2, PG-3), and `readAsTenant`, whose reads set it for their own statement; row-level security
/// does the rest. `withOperator` is the platform operator's
/// cross-tenant view (tenant administration and API key lookup). The raw client stays private, so code
/// outside this module cannot run SQL that forgot its tenant.
public struct Database: Sendable, Service {
    /// The queue machinery's and the long holders' connections (see `queueConnections`).
    private let client: PostgresClient
    /// The shelf's connections: every other call's (see `shelf`).
    private let shelfClient: PostgresClient
    private let shelfClientRunning = PoolRunFlag()
    /// The webhook ingest writer's own connections: each batch is one autocommitted statement (one round trip, one WAL
    /// flush) that turns the ingest mode on for itself. Nothing else uses them. That statement has no statement timeout
    /// of ours (one it set would apply to the next statement only; a login parameter is what PgBouncer refuses): the
    /// ingest call deadline bounds it from this side, and a role's own `statement_timeout` applies when set.
    private let ingestClient: PostgresClient
    /// One per flusher of the ingest writer. Fewer flushers make larger batches: with tasks on the event loops,
    /// `bench ingest` measured two at 6,458-7,787 events/s (ratio 1.54-1.72, mean batch 15) against four at
    /// 5,662-6,757 (ratio 1.21-1.48, mean batch 10) in paired runs; six were no better than four before.
    public static let ingestConnections = 2
    private let clientRunning = PoolRunFlag()
    /// The short calls' connections (tenant, operator and the other transactions, the tenant reads), kept leased from
    /// `shelfClient`, a pool of `maxConnections` of its own.
    private let shelf: ConnectionShelf
    /// The connections of `client`, leased from it directly: the long holders' (an executor's listener, a scheduler's
    /// leader lock) and the queue machinery's (`withQueue`: claims, completion writes, heartbeats, schedules), a few
    /// batched calls at a time, which `bench queue` measured 10-20 % slower on the shelf than on the pool. A pool of
    /// their own, not shared with the shelf: a shared one let the shelf's idle connections (kept for `idleLimit`) take
    /// the places these calls waited for, and these calls take the places the shelf's holders waited for (503s in a
    /// full test run on a loaded machine).
    static let queueConnections = 6
    private let ingestClientRunning = PoolRunFlag()
    private let metrics: DatabaseMetrics?
    /// Every call's bounds on waiting for a connection and on holding it (REQUIREMENTS RL-8).
    public let deadlines: DatabaseDeadlines
    /// The ingest writer's: shorter, because a provider waits for the answer (see `WebhookIngestWriter`).
    public let ingestDeadlines: DatabaseDeadlines
    /// Seals and opens tenants' secrets inside their transactions.
    public let vault: Vault
    /// Set in each transaction (`set_config(..., true)`), not at login: see `PostgresClient.Configuration.Role`.
    private let statementTimeout: String
    let statements: StatementPreparation
    /// The hot reads that requests share a statement for under load (`Database+CombinedReads.swift`).
    let combinedReads = CombinedReads()

    public init(configuration: DatabaseConfiguration, vault: Vault, metrics: DatabaseMetrics?, logger: Logger) throws {
        self.client = PostgresClient(
            configuration: try .init(
                configuration.url,
                role: .application(maxConnections: Self.queueConnections)
            ),
            backgroundLogger: logger
        )
        self.shelfClient = PostgresClient(
            configuration: try .init(
                configuration.url,
                role: .application(maxConnections: configuration.maxConnections)
            ),
            backgroundLogger: logger
        )
        self.ingestClient = PostgresClient(
            configuration: try .init(
                configuration.url,
                role: .ingest(maxConnections: Self.ingestConnections)
            ),
            backgroundLogger: logger
        )
        self.shelf = ConnectionShelf(capacity: configuration.maxConnections)
        self.metrics = metrics
        self.vault = vault
        self.statementTimeout = String(configuration.statementTimeoutMilliseconds)
        self.statements = StatementPreparation(prepared: configuration.preparedStatements)
        self.deadlines = DatabaseDeadlines(configuration)
        // A provider waits for the answer (GitHub gives up after 10 s): a batch waits at most a second (by default) for
        // one of the writer's connections, so that while the database is down deliveries get their 503 quickly.
        self.ingestDeadlines = DatabaseDeadlines(
            acquire: min(deadlines.acquire, .milliseconds(configuration.ingestAcquireTimeoutMilliseconds)),
            call: .milliseconds(min(configuration.callTimeoutMilliseconds, configuration.ingestCallTimeoutMilliseconds))
        )
        metrics?.setPoolSize(configuration.maxConnections)
    }

    /// Runs the connection pools until graceful shutdown.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                clientRunning.markRunning()
                await client.run()
            }
            group.addTask {
                ingestClientRunning.markRunning()
                await ingestClient.run()
            }
            group.addTask {
                shelfClientRunning.markRunning()
                await shelfClient.run()
            }
            // Stops with the pool (postgres-nio cancels its pool at graceful shutdown), giving back every connection held.
            group.addTask {
                await cancelWhenGracefulShutdown {
                    await shelf.run { hold in
                        try await shelfClientRunning.waitUntilRunning()
                        try await shelfClient.withConnection { connection in await hold(connection) }
                    }
                }
            }
        }
    }

    /// Runs `body` in a transaction that can see and write only `tenantID`'s rows.
    public func withTenant<Result: Sendable>(
        _ tenantID: TenantID,
        logger: Logger,
        _ body: (TenantTransaction) async throws -> Result
    ) async throws -> Result {
        do {
            return try await transaction(setting: "app.tenant_id", to: tenantID.description, logger: logger) { connection in
                try await body(TenantTransaction(connection: connection, tenantID: tenantID, vault: vault, logger: logger, statements: statements))
            }
        } catch let unreadable as SecretUnreadable {
            await report(unreadable, logger: logger)
            throw unreadable
        }
    }

    /// Runs `body` with one tenant's hot reads (`TenantReader`): each is a single autocommitted statement, one round
    /// trip instead of BEGIN, set_config, the query and COMMIT (issue 18), that sets the tenant for its own implicit
    /// transaction (migration 0036), so the connection carries no tenant once it returns. The reads of single rows are
    /// combined across requests instead (`Database+CombinedReads.swift`).
    public func readAsTenant<Result: Sendable>(
        _ tenantID: TenantID,
        logger: Logger,
        _ body: (TenantReader) async throws -> Result
    ) async throws -> Result {
        try await autocommitted { connection in
            try await body(TenantReader(connection: connection, tenantID: tenantID, logger: logger, statements: statements))
        }
    }

    /// Runs `body`'s autocommitted statements, each of which sets its tenant for itself (the hot reads: `readAsTenant`
    /// and the combined reads), on a shelved connection.
    ///
    /// Those statements run without our statement timeout: one set inside them would bound only the statements after
    /// it, and a login parameter is what PgBouncer refuses. Each is one page of a tenant's integrations or a batch of
    /// primary-key lookups; the call deadline bounds it from this side (`DatabaseDeadlines.call` closes the
    /// connection), and a role's own `statement_timeout` applies when set, as for the ingest writer's statements.
    func autocommitted<Result>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        metrics?.connectionLeased()
        defer { metrics?.connectionReturned() }
        do {
            return try await shelvedConnection(deadlines: deadlines, body)
        } catch {
            throw DatabaseError.translate(error)
        }
    }

    /// A secret that does not open is a security event, not an outage: logged with what it belongs to, counted,
    /// and audited in the tenant's log (in a transaction of its own, the failed one having rolled back).
    func report(_ unreadable: SecretUnreadable, logger: Logger) async {
        logger.error(
            "a stored secret cannot be opened: altered, or copied from another record",
            metadata: [
                "tenant_id": "\(unreadable.tenant)", "table": "\(unreadable.field.table)", "field": "\(unreadable.field.column)",
                "row_id": "\(unreadable.row.lowercasedString)", "cause": "\(unreadable.cause)",
            ]
        )
        metrics?.secretUnreadable(field: "\(unreadable.field.table).\(unreadable.field.column)")
        do {
            try await withTenant(unreadable.tenant, logger: logger) { transaction in
                try await transaction.recordAudit(
                    NewAuditEvent(
                        actor: "system",
                        action: "secret.unreadable",
                        resourceType: unreadable.field.table,
                        resourceID: unreadable.row.lowercasedString,
                        requestID: logger[metadataKey: "request_id"].map { "\($0)" },
                        details: ["field": unreadable.field.column, "cause": "\(unreadable.cause)"]
                    )
                )
            }
        } catch {
            logger.warning("could not audit an unreadable secret", metadata: ["error": "\(loggableDescription(of: error))"])
        }
    }

    /// Runs `body` in a transaction with the platform operator's cross-tenant view.
    public func withOperator<Result: Sendable>(
        logger: Logger,
        _ body: (OperatorTransaction) async throws -> Result
    ) async throws -> Result {
        try await transaction(setting: "app.operator", to: "on", logger: logger) { connection in
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
        try await transaction(setting: "app.queue", to: "on", pooled: true, logger: logger) { connection in
            try await body(QueueTransaction(connection: connection, logger: logger, statements: statements))
        }
    }

    /// Runs `body` in a transaction of the usage writer: it may add to and prune `usage_counters` of every tenant
    /// (its policy names `app_is_usage_writer()`), and see nothing else.
    public func withUsageWriter<Result: Sendable>(
        logger: Logger,
        _ body: (UsageWriterTransaction) async throws -> Result
    ) async throws -> Result {
        try await transaction(setting: "app.usage", to: "on", logger: logger) { connection in
            try await body(UsageWriterTransaction(connection: connection, logger: logger))
        }
    }

    /// Runs `body` in a transaction of the API's rate limiter: it may lease tokens from and prune `rate_limit_buckets`
    /// of every tenant (its policy names `app_is_rate_limiter()`), and see nothing else.
    public func withRateLimiter<Result: Sendable>(
        logger: Logger,
        _ body: (RateLimiterTransaction) async throws -> Result
    ) async throws -> Result {
        // Without waiting for its commit to be flushed: a lease or a learned quota lost with the last moment before a
        // crash only grants those tokens again (within the limiter's stated tolerance), and a request waiting for a
        // lease no longer waits for a WAL flush, which a checkpoint can stretch to hundreds of milliseconds.
        try await transaction(setting: "app.rate_limiter", to: "on", durableCommit: false, logger: logger) { connection in
            try await body(RateLimiterTransaction(connection: connection, logger: logger))
        }
    }

    /// Holds one pooled connection and calls `onNotification` for each NOTIFY on `channel` until
    /// the task is cancelled or the connection fails (which throws, so the caller can reconnect).
    public func listen(channel: String, logger: Logger, onNotification: @Sendable () -> Void) async throws {
        // Held for as long as the listener runs: only the wait for the connection is bounded. A listener on a dead
        // socket costs wake-ups, not correctness: the executor polls as well.
        try await client.withConnection(deadlines: DatabaseDeadlines(acquire: deadlines.acquire, call: nil), metrics: metrics, running: clientRunning)
        { connection in
            try await connection.listen(on: channel) { notifications in
                for try await _ in notifications { onNotification() }
            }
        }
    }

    /// Runs `body` while holding the session advisory lock `key` on a connection of its own, or returns
    /// `nil` at once when another session holds it. The lock goes with the connection: a process that
    /// dies loses it, which is what makes it a leader lock; so does a PostgreSQL restart, which `body`
    /// notices through `SessionLock.isHeld()`.
    public func withSessionLock<Result: Sendable>(
        _ key: Int64,
        logger: Logger,
        _ body: (SessionLock) async throws -> Result
    ) async throws -> Result? {
        // Held while `body` leads, possibly for days: only the wait for it and each of its own queries are bounded.
        return try await client.withConnection(
            deadlines: DatabaseDeadlines(acquire: deadlines.acquire, call: nil),
            metrics: metrics,
            running: clientRunning
        ) { connection in
            let lock = SessionLock(connection: connection, key: key, timeout: deadlines.acquire, logger: logger)
            guard try await lock.tryAcquire() else { return nil }
            do {
                let result = try await body(lock)
                await lock.release()
                return result
            } catch {
                await lock.release()
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
            return try await ingestClient.withConnection(deadlines: ingestDeadlines, metrics: metrics, running: ingestClientRunning) { connection in
                try await body(IngestSession(connection: connection, logger: logger, statements: statements))
            }
        } catch {
            throw DatabaseError.translate(error)
        }
    }

    /// Reads facts about the schema and the connected role, for start-up checks and `/readyz` (which passes
    /// tighter `deadlines`, so that it answers within a second whatever the database does).
    public func withCatalog<Result: Sendable>(
        deadlines: DatabaseDeadlines? = nil,
        logger: Logger,
        _ body: (CatalogReader) async throws -> Result
    ) async throws -> Result {
        try await transaction(setting: nil, deadlines: deadlines, logger: logger) { connection in
            try await body(CatalogReader(connection: connection, logger: logger))
        }
    }

    /// A transaction in which the setting `name` (`app.tenant_id`, `app.operator`, `app.queue`) has `value`, and the
    /// statement timeout its configured value, for it alone: one statement after BEGIN sets both (`is_local`), so the
    /// timeout costs no round trip of its own where a setting is made anyway (the catalog's transactions, rare, pay one).
    /// PostgreSQL drops both at COMMIT or ROLLBACK, so a pooled session, or a pooler's server connection that serves
    /// other clients next, never carries them past the transaction. `durableCommit: false` turns `synchronous_commit`
    /// off in the same statement, for state whose last moments may be lost in a crash.
    private func transaction<Result: Sendable>(
        setting name: String?,
        to value: String = "",
        deadlines: DatabaseDeadlines? = nil,
        pooled: Bool = false,
        durableCommit: Bool = true,
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await transaction(deadlines: deadlines, pooled: pooled, logger: logger) { connection in
            if let name {
                // A durable commit keeps the session's `synchronous_commit`, whatever the server configures.
                let commit = durableCommit ? "" : ", set_config('synchronous_commit', 'off', true)"
                try await connection.guardedQuery(
                    """
                    SELECT set_config(\(name), \(value), true), set_config('statement_timeout', \(statementTimeout), true)\(unescaped: commit)
                    """,
                    logger: logger
                )
            } else {
                try await connection.guardedQuery("SELECT set_config('statement_timeout', \(statementTimeout), true)", logger: logger)
            }
            return try await body(connection)
        }
    }

    /// `pooled`: on a connection leased from `client` rather than the shelf (the queue machinery's calls, see
    /// `queueConnections`).
    private func transaction<Result: Sendable>(
        deadlines: DatabaseDeadlines? = nil,
        pooled: Bool = false,
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        metrics?.connectionLeased()
        defer { metrics?.connectionReturned() }
        do {
            let deadlines = deadlines ?? self.deadlines
            if pooled {
                return try await client.withConnection(deadlines: deadlines, metrics: metrics, running: clientRunning) { connection in
                    try await connection.guardedTransaction(logger: logger) { connection in try await body(connection) }
                }
            }
            return try await shelvedConnection(deadlines: deadlines) { connection in
                try await connection.guardedTransaction(logger: logger) { connection in
                    try await body(connection)
                }
            }
        } catch {
            throw DatabaseError.translate(error)
        }
    }

    /// Runs `body` on a connection from the shelf, within `deadlines`: as `PostgresClient.withConnection(deadlines:...)`
    /// does with a lease from the pool.
    private func shelvedConnection<Result>(deadlines: DatabaseDeadlines, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let slot: ConnectionShelf.Slot
        do {
            slot = try await shelf.take(within: deadlines.acquire, timerLoop: PostgresClient.timerLoop, metrics: metrics)
        } catch is ConnectionShelf.Expired {
            metrics?.acquireTimedOut()
            throw SwitchyardError.databaseUnavailable
        } catch is ConnectionShelf.Stopped {
            throw SwitchyardError.databaseUnavailable
        }
        let (result, reusable) = await slot.connection.withinCallDeadline(deadlines.call, metrics: metrics, body)
        shelf.giveBack(slot, reusable: reusable)
        return try result.get()
    }
}
