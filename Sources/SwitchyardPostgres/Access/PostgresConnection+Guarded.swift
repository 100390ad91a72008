import Logging
import NIOCore
import PostgresNIO
import SwitchyardCore
import Synchronization

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

/// Queries whose caller stops waiting the moment their connection closes.
///
/// postgres-nio 1.33 writes a query to its channel without a write promise. When the server has just gone away
/// (crash, restart, a deadline closing the connection), a query written after the channel closed is dropped
/// before it reaches postgres-nio's handler, and the query's own promise is never completed: the caller waits
/// forever. Checking `isClosed` first is not enough, because a batch's bindings are encoded between the check and
/// the write, and the fault suite hits that window about once in twenty crashes. So the wait for the query's
/// first answer runs in a task of its own and the caller waits for whichever comes first: that answer, or the
/// connection's close (REQUIREMENTS RL-6, RL-8). Every query of ours goes through here.
extension PostgresConnection {
    func ensureOpen() throws {
        if isClosed { throw SwitchyardError.databaseUnavailable }
    }

    @discardableResult
    func guardedQuery(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        try ensureOpen()
        return try await ConnectionCloseWatch.shared.untilClosed(self) { connection in
            try await connection.query(query, logger: logger, file: file, line: line)
        }
    }

    /// Runs a hot statement and returns its rows, decoded (collected in the waiting task, so that no part of the wait
    /// can outlive the connection), as a named statement or an unnamed one (`StatementPreparation`).
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
    /// the connection when the server crashed meanwhile). Both wait in one task: one round trip more, no more.
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
        try ensureOpen()
        return try await ConnectionCloseWatch.shared.untilClosed(self) { connection in
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

/// The callers waiting on each open connection, released together when it closes. One close callback per
/// connection, whatever the number of queries it runs.
final class ConnectionCloseWatch: Sendable {
    static let shared = ConnectionCloseWatch()

    private struct Entry {
        var waiters: [UInt64: @Sendable () -> Void] = [:]
    }

    private struct State {
        var connections: [ObjectIdentifier: Entry] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Runs `operation` in a task of its own and returns its result, or throws `databaseUnavailable` as soon as
    /// `connection` closes, whichever comes first. An abandoned operation finishes (or not) on its own.
    func untilClosed<Result: Sendable>(
        _ connection: PostgresConnection,
        _ operation: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let outcome = OneShot<Result>()
        return try await withCheckedThrowingContinuation { continuation in
            outcome.attach(continuation)
            let waiter = watch(connection) { outcome.resolve(.failure(SwitchyardError.databaseUnavailable)) }
            Task {
                let result: Swift.Result<Result, any Error>
                do { result = .success(try await operation(connection)) } catch { result = .failure(error) }
                self.unwatch(connection, waiter)
                outcome.resolve(result)
            }
        }
    }

    private func watch(_ connection: PostgresConnection, onClose: @escaping @Sendable () -> Void) -> UInt64 {
        let key = ObjectIdentifier(connection)
        let (waiter, isNew) = state.withLock { state -> (UInt64, Bool) in
            state.nextWaiter &+= 1
            let isNew = state.connections[key] == nil
            state.connections[key, default: Entry()].waiters[state.nextWaiter] = onClose
            return (state.nextWaiter, isNew)
        }
        if isNew {
            // Fires at once when the connection is closed already.
            connection.closeFuture.whenComplete { _ in self.closed(key) }
        }
        return waiter
    }

    private func unwatch(_ connection: PostgresConnection, _ waiter: UInt64) {
        state.withLock { _ = $0.connections[ObjectIdentifier(connection)]?.waiters.removeValue(forKey: waiter) }
    }

    private func closed(_ key: ObjectIdentifier) {
        let waiters = state.withLock { $0.connections.removeValue(forKey: key)?.waiters.values.map { $0 } ?? [] }
        for waiter in waiters { waiter() }
    }
}

/// A continuation resumed by whichever of several parties comes first.
private final class OneShot<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        var early: Result<Value, any Error>?
        var done = false
    }

    private let state = Mutex(State())

    func attach(_ continuation: CheckedContinuation<Value, any Error>) {
        let early = state.withLock { state -> Result<Value, any Error>? in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func resolve(_ result: Result<Value, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<Value, any Error>? in
            guard !state.done else { return nil }
            state.done = true
            guard let continuation = state.continuation else {
                state.early = result
                return nil
            }
            state.continuation = nil
            return continuation
        }
        continuation?.resume(with: result)
    }
}
