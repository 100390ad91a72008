import Foundation
import Logging
import NIOCore
import PostgresNIO
import SwitchyardCore
import SwitchyardPostgres
import Synchronization

/// The ceiling `switchyard bench ingest` compares group commit with: every event its own durable insert
/// transaction (one autocommitted INSERT, so one WAL flush each), `concurrency` connections at once.
enum SingleInsertCeiling {
    /// Inserts `events` webhook events for `source` and returns how long they took.
    static func run(
        url: DatabaseURL,
        tenant: TenantID,
        source: UUID,
        events: Int,
        concurrency: Int,
        body: ByteBuffer,
        headers: String,
        logger: Logger
    ) async throws -> Duration {
        let next = TicketCounter()
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    let connection = try await PostgresConnection.connect(configuration: try .init(url), id: worker, logger: logger)
                    do {
                        // The ingest writer's mode, for the whole session: each INSERT is then its own transaction.
                        try await connection.query("SELECT set_config('app.ingest', 'on', false)", logger: logger)
                        while true {
                            let index = next.take()
                            guard index < events else { break }
                            try await connection.query(
                                """
                                INSERT INTO webhook_events (tenant_id, id, source_id, event_id, event_type, headers, body)
                                VALUES (\(tenant.rawValue), \(UUID.v7()), \(source), \("ceiling-\(index)"), 'bench', \(headers)::jsonb, \(body))
                                ON CONFLICT (tenant_id, source_id, event_id) DO NOTHING
                                """,
                                logger: logger
                            )
                        }
                        try await connection.close()
                    } catch {
                        try? await connection.close()
                        throw error
                    }
                }
            }
            try await group.waitForAll()
        }
        return ContinuousClock.now - started
    }
}
