import Foundation
import Logging
import NIOCore
import PostgresNIO
import SwitchyardCore
import SwitchyardPostgres
import Synchronization

/// The ceiling `switchyard bench ingest` compares group commit with: every event its own durable insert
/// transaction (one autocommitted INSERT, so one WAL flush each), on `concurrency` connections at once. The
/// connections are opened once, before the first slice's clock starts, and serve every slice.
struct SingleInsertCeiling: Sendable {
    let connections: [PostgresConnection]
    let tenant: TenantID
    let source: UUID
    let body: ByteBuffer
    let headers: String
    let logger: Logger

    /// Opens `concurrency` connections, each in the ingest writer's mode for its whole session (each INSERT is then
    /// its own transaction), to insert events of `source`; runs `measure` on them and closes them however it ends.
    static func withConnections<Result>(
        url: DatabaseURL,
        concurrency: Int,
        tenant: TenantID,
        source: UUID,
        body: ByteBuffer,
        headers: String,
        logger: Logger,
        _ measure: (SingleInsertCeiling) async throws -> Result
    ) async throws -> Result {
        var connections: [PostgresConnection] = []
        do {
            for worker in 0..<concurrency {
                let connection = try await PostgresConnection.connect(configuration: try .init(url), id: worker, logger: logger)
                connections.append(connection)
                try await connection.query("SELECT set_config('app.ingest', 'on', false)", logger: logger)
            }
            let ceiling = SingleInsertCeiling(connections: connections, tenant: tenant, source: source, body: body, headers: headers, logger: logger)
            let result = try await measure(ceiling)
            await close(connections)
            return result
        } catch {
            await close(connections)
            throw error
        }
    }

    /// Inserts `events` events, their ids starting with `prefix`, and returns how long they took.
    func run(events: Int, prefix: String) async throws -> Duration {
        let next = TicketCounter()
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for connection in connections {
                group.addTask {
                    while true {
                        let index = next.take()
                        guard index < events else { break }
                        try await connection.query(
                            """
                            INSERT INTO webhook_events (tenant_id, id, source_id, event_id, event_type, headers, body)
                            VALUES (\(tenant.rawValue), \(UUID.v7()), \(source), \("\(prefix)-\(index)"), 'bench', \(headers)::jsonb, \(body))
                            ON CONFLICT (tenant_id, source_id, event_id) DO NOTHING
                            """,
                            logger: logger
                        )
                    }
                }
            }
            try await group.waitForAll()
        }
        return ContinuousClock.now - started
    }

    private static func close(_ connections: [PostgresConnection]) async {
        for connection in connections { try? await connection.close() }
    }
}
