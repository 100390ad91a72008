import Logging
import NIOCore
import PostgresNIO
import SwitchyardCore

/// How the hot paths' statements (`PostgresPreparedStatement`s: the claim, the completion, the ingest batch, the sync
/// page) reach the server (`SWITCHYARD_DATABASE_PREPARED_STATEMENTS`).
///
/// Named, postgres-nio prepares each once per connection and PostgreSQL plans it once (planning the claim's CTEs costs
/// more than running them). A pooler in transaction mode hands each transaction whichever server connection is free,
/// where that name is unknown or already taken; PgBouncer tracks named statements only from 1.21
/// (`max_prepared_statements`), and Debian bookworm ships 1.18. Unnamed, the same SQL and bindings go as one
/// Parse/Bind/Execute/Sync, planned at every execution, which any pooler passes: the price of the pooler.
enum StatementPreparation: Sendable {
    case named
    case unnamed

    init(prepared: Bool) { self = prepared ? .named : .unnamed }
}

/// Queries that are either handed to postgres-nio's handler or refused at once, never lost in between.
///
/// postgres-nio 1.33 writes a query to its channel without a write promise. When the server has just gone away
/// (crash, restart, a deadline closing the connection), a query written after the channel closed is dropped
/// before it reaches postgres-nio's handler (the pipeline has lost its handlers), and the query's own promise is
/// never completed: the caller would wait forever. Checking `isClosed` from another thread is not enough, because the
/// channel can close between the check and the write (the fault suite hit that window about once in twenty crashes).
/// So each query starts on its connection's event loop (`onEventLoop`): there the check and the write happen in one
/// step that nothing else on the channel can interleave with, and a query written to an open channel reaches the
/// handler, which fails it if the connection closes before it is answered (REQUIREMENTS RL-6, RL-8).
///
/// The answer is also awaited on the loop, so a query costs no hop to a thread of its own: an earlier version ran
/// each query in a task of its own, raced against the connection's close.
extension PostgresConnection {
    func ensureOpen() throws {
        if isClosed { throw SwitchyardError.databaseUnavailable }
    }

    /// Runs `operation` with this connection's event loop as the task's executor: everything `operation` does up to
    /// its first suspension runs on the loop without interleaving with the channel's own events.
    func onEventLoop<Result>(_ operation: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await withTaskExecutorPreference(EventLoopTaskExecutor.of(eventLoop)) {
            assert(eventLoop.inEventLoop, "a guarded query must start on its connection's event loop")
            try ensureOpen()
            return try await operation(self)
        }
    }

    @discardableResult
    func guardedQuery(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        try await onEventLoop { connection in
            try await connection.query(query, logger: logger, file: file, line: line)
        }
    }

    /// Runs a hot statement and returns its rows, decoded (collected on the loop, where they arrive), as a named
    /// statement or an unnamed one (`StatementPreparation`).
    func guardedExecute<Statement: PostgresPreparedStatement>(
        _ statement: Statement,
        _ preparation: StatementPreparation,
        logger: Logger,
        file: String = #fileID,
        line: Int = #line
    ) async throws -> [Statement.Row] where Statement.Row: Sendable {
        try await guardedRows(of: statement, preparation, confirmingCommit: false, logger: logger, file: file, line: line)
    }

    /// Runs a prepared statement outside any transaction (it commits on its own) and returns its rows once that
    /// commit is known to have happened (REQUIREMENTS RL-9).
    ///
    /// An autocommitted statement of the extended protocol commits when the server processes its Sync, *after* it
    /// has sent CommandComplete, and postgres-nio ends the row stream at CommandComplete: the rows alone prove
    /// nothing. The connection runs its queries one after another, each sent after the previous one's
    /// ReadyForQuery, so the answer to a trivial query that follows proves the commit went through (or fails with
    /// the connection when the server crashed meanwhile). One round trip more, no more.
    func guardedAutocommit<Statement: PostgresPreparedStatement>(
        _ statement: Statement,
        _ preparation: StatementPreparation,
        logger: Logger,
        file: String = #fileID,
        line: Int = #line
    ) async throws -> [Statement.Row] where Statement.Row: Sendable {
        try await guardedRows(of: statement, preparation, confirmingCommit: true, logger: logger, file: file, line: line)
    }

    private func guardedRows<Statement: PostgresPreparedStatement>(
        of statement: Statement,
        _ preparation: StatementPreparation,
        confirmingCommit: Bool,
        logger: Logger,
        file: String,
        line: Int
    ) async throws -> [Statement.Row] where Statement.Row: Sendable {
        try await onEventLoop { connection in
            var rows: [Statement.Row] = []
            switch preparation {
            case .named:
                for try await row in try await connection.execute(statement, logger: logger, file: file, line: line) { rows.append(row) }
            case .unnamed:
                let query = PostgresQuery(unsafeSQL: Statement.sql, binds: try statement.makeBindings())
                for try await row in try await connection.query(query, logger: logger, file: file, line: line) {
                    rows.append(try statement.decodeRow(row))
                }
            }
            if confirmingCommit { _ = try await connection.query("SELECT 1", logger: logger, file: file, line: line).collect() }
            return rows
        }
    }

    /// BEGIN, `body`, COMMIT; ROLLBACK when `body` throws and the connection is still there to hear it (the server
    /// has rolled back already when it went away). postgres-nio's own `withTransaction` sends ROLLBACK regardless.
    func guardedTransaction<Result>(logger: Logger, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await guardedQuery("BEGIN", logger: logger)
        let result: Result
        do {
            result = try await body(self)
        } catch {
            if !isClosed { _ = try? await guardedQuery("ROLLBACK", logger: logger) }
            throw error
        }
        try await guardedQuery("COMMIT", logger: logger)
        return result
    }
}
