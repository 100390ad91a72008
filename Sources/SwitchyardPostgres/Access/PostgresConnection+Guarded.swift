import Logging
import PostgresNIO
import SwitchyardCore

/// Queries that fail at once on a connection whose server went away.
///
/// postgres-nio 1.33 writes a query to its channel without a promise; once the channel has closed (the server
/// crashed or restarted) the write is dropped and the query's own promise is never completed, so the caller waits
/// forever: the ROLLBACK after a failed statement, the next statement of a transaction, a leader's lock check.
/// Asking first leaves only the instant between the check and the write, which the pool and the deadlines of
/// `DatabaseDeadlines` cannot cover; every query of ours goes through here (REQUIREMENTS RL-6, RL-8).
extension PostgresConnection {
    func ensureOpen() throws {
        if isClosed { throw SwitchyardError.databaseUnavailable }
    }

    @discardableResult
    func guardedQuery(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        try ensureOpen()
        return try await self.query(query, logger: logger, file: file, line: line)
    }

    func guardedExecute<Statement: PostgresPreparedStatement, Row>(
        _ statement: Statement, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> AsyncThrowingMapSequence<PostgresRowSequence, Row> where Row == Statement.Row {
        try ensureOpen()
        return try await execute(statement, logger: logger, file: file, line: line)
    }

    /// BEGIN, `body`, COMMIT; ROLLBACK when `body` throws and the connection is still there to hear it (the server
    /// has rolled back already when it went away). postgres-nio's own `withTransaction` sends ROLLBACK regardless.
    func guardedTransaction<Result>(logger: Logger, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await guardedQuery("BEGIN", logger: logger)
        let result: Result
        do {
            result = try await body(self)
        } catch {
            if !isClosed { _ = try? await query("ROLLBACK", logger: logger) }
            throw error
        }
        try await guardedQuery("COMMIT", logger: logger)
        return result
    }
}
