import Logging
import NIOCore
import PostgresNIO

/// A session advisory lock held on a connection of its own: the scheduler's leadership.
///
/// The lock lives exactly as long as its session, so it dies with the connection when PostgreSQL restarts, and
/// nothing tells the holder. `isHeld()` asks, on the lock's own connection and within a deadline, whether this
/// session still holds it: a leader checks before every tick and steps down when the answer is no (REQUIREMENTS RL-8).
///
/// It needs a real session: behind a pooler in transaction mode (PgBouncer) the lock would stay on a server connection
/// that other clients use next, so the scheduler connects to PostgreSQL directly (README, "Behind PgBouncer").
public struct SessionLock: Sendable {
    let connection: PostgresConnection
    let key: Int64
    let timeout: Duration
    let logger: Logger

    /// Whether this session holds the lock; `false` when the connection is gone or does not answer in time.
    public func isHeld() async -> Bool {
        let held = try? await timed {
            try await connection.guardedQuery(
                """
                SELECT count(*)::int FROM pg_locks
                 WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                   AND ((classid::bigint << 32) | objid::bigint) = \(key)
                """,
                logger: logger
            ).decode(Int.self).collect().first
        }
        return held == 1
    }

    /// Returns when the lock's connection closes (the lock is gone with it), or when the task is cancelled.
    public func waitUntilLost() async {
        while !connection.isClosed {
            guard (try? await Task.sleep(for: .milliseconds(50))) != nil else { return }
        }
    }

    func tryAcquire() async throws -> Bool {
        try await timed {
            try await connection.guardedQuery("SELECT pg_try_advisory_lock(\(key))", logger: logger).decode(Bool.self).collect().first ?? false
        }
    }

    func release() async {
        _ = try? await timed { try await connection.guardedQuery("SELECT pg_advisory_unlock(\(key))", logger: logger).collect() }
    }

    /// Runs one query of the lock's; past `timeout` the connection is closed, which fails the query (and ends the lock).
    private func timed<Result>(_ body: () async throws -> Result) async throws -> Result {
        let deadline = connection.closing(after: timeout)
        defer { deadline.cancel() }
        return try await body()
    }
}
