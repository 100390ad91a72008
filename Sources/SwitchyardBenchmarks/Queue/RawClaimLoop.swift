import Foundation
import Logging
import PostgresNIO
import SwitchyardCore
import SwitchyardPostgres

/// The queue's raw SQL ceiling, for `switchyard bench queue`: plain statements on dedicated connections,
/// claiming 10 jobs and completing them, with no transaction wrapping, no history and no handlers.
enum RawClaimLoop {
    /// Runs `workers` loops against `tenant`'s queued jobs until none is left; returns the jobs completed.
    static func run(url: DatabaseURL, tenant: TenantID, workers: Int, batch: Int = 10, logger: Logger) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    let connection = try await PostgresConnection.connect(configuration: try .init(url), id: 100 + worker, logger: logger)
                    do {
                        let done = try await loop(connection, tenant: tenant, batch: batch, logger: logger)
                        try await connection.close()
                        return done
                    } catch {
                        try? await connection.close()
                        throw error
                    }
                }
            }
            return try await group.reduce(0, +)
        }
    }

    private static func loop(_ connection: PostgresConnection, tenant: TenantID, batch: Int, logger: Logger) async throws -> Int {
        // Session-wide on this private connection: the queue's view of `jobs`, as `withQueue` gives per transaction.
        try await connection.query("SELECT set_config('app.queue', 'on', false)" as PostgresQuery, logger: logger)
        var done = 0
        while true {
            let ids = try await connection.query(
                """
                UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = 'raw', lease_expires_at = now() + interval '30 seconds',
                                started_at = now(), updated_at = now()
                 WHERE tenant_id = \(tenant.rawValue) AND id IN (
                    SELECT id FROM jobs WHERE tenant_id = \(tenant.rawValue) AND state IN ('queued', 'failed') AND run_at <= now()
                     ORDER BY priority, run_at LIMIT \(batch) FOR UPDATE SKIP LOCKED)
                RETURNING id
                """,
                logger: logger
            ).decode(UUID.self).collect()
            if ids.isEmpty { return done }
            try await connection.query(
                """
                UPDATE jobs SET state = 'succeeded', finished_at = now(), lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
                 WHERE tenant_id = \(tenant.rawValue) AND id = ANY(\(ids)) AND state = 'running'
                """,
                logger: logger
            )
            done += ids.count
        }
    }
}
