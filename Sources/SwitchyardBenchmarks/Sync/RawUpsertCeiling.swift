import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO
import SwitchyardCore
import SwitchyardPostgres

/// The sync benchmark's raw ceiling: the provider's pages upserted into `sync_records` by one prepared multi-row
/// statement per page, autocommitted, on a dedicated connection. No HTTP, no JSON parsing of a page, no run
/// record, no checkpoint, no seen-ids for delete detection.
///
/// The pages are taken from the provider's memory (the same records, in the same order and page size, as its
/// HTTP listing serves) and each record's SHA-256 is computed in Swift *outside* the timed section: the ceiling
/// times only the statement, so it is an upper bound for what the sync path (which hashes in SQL) can reach.
enum RawUpsertCeiling {
    struct Result {
        let records: Int
        let written: Int
        let seconds: Double
    }

    static func run(
        url: DatabaseURL,
        provider: RecordsProvider,
        tenant: TenantID,
        integration: UUID,
        model: String,
        pageSize: Int,
        logger: Logger
    ) async throws -> Result {
        let connection = try await PostgresConnection.connect(configuration: try .init(url), id: 900, logger: logger)
        do {
            // Session-wide on this private connection: the tenant that `withTenant` sets per transaction (RLS).
            try await connection.query("SELECT set_config('app.tenant_id', \(tenant.description), false)", logger: logger)
            var records = 0
            var written = 0
            var timed = Duration.zero
            while true {
                let page = provider.listing(from: records, count: pageSize)
                if page.isEmpty { break }
                let statement = UpsertStatement(
                    tenant: tenant.rawValue,
                    integration: integration,
                    model: model,
                    ids: page.map(\.id),
                    data: page.map(\.json),
                    hashes: page.map { ByteBuffer(bytes: SHA256.hash(data: Data($0.json.utf8))) }
                )
                let start = ContinuousClock.now
                written += try await connection.execute(statement, logger: logger).collect().first ?? 0
                timed += ContinuousClock.now - start
                records += page.count
            }
            try await connection.close()
            return Result(records: records, written: written, seconds: timed.inSeconds)
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// One page's upsert: an unchanged record (same hash, not deleted) is not rewritten, as in the sync path.
private struct UpsertStatement: PostgresPreparedStatement {
    static let name = "switchyard_bench_sync_ceiling_v1"
    static let sql = """
        WITH written AS (
            INSERT INTO sync_records (tenant_id, integration_id, model, external_id, data, content_hash)
            SELECT $1::uuid, $2::uuid, $3::text, r.external_id, r.data, r.content_hash
              FROM unnest($4::text[], $5::text[]::jsonb[], $6::bytea[]) AS r(external_id, data, content_hash)
            ON CONFLICT (tenant_id, integration_id, model, external_id) DO UPDATE
               SET data = EXCLUDED.data, content_hash = EXCLUDED.content_hash, modified_at = now(), deleted_at = NULL,
                   change_xid = pg_current_xact_id(), change_seq = nextval('sync_record_change_seq')
             WHERE sync_records.content_hash <> EXCLUDED.content_hash OR sync_records.deleted_at IS NOT NULL
            RETURNING 1
        )
        SELECT count(*)::int8 FROM written
        """

    let tenant: UUID
    let integration: UUID
    let model: String
    let ids: [String]
    let data: [String]
    let hashes: [ByteBuffer]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 6)
        bindings.append(tenant)
        bindings.append(integration)
        bindings.append(model)
        bindings.append(ids)
        bindings.append(data)
        bindings.append(hashes)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Int {
        try row.decode(Int.self)
    }
}
