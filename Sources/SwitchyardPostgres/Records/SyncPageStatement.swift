import Foundation
import PostgresNIO
import SwitchyardCore

/// The page write of `writeSyncPage`, with the run's progress past the page (one statement, one round trip),
/// prepared once per connection: a sync writes one page after another with
/// the same statement, and planning its CTEs anew took about 1.2 ms a page (next to some 3 ms of execution for 100
/// records of 1 KB); prepared, PostgreSQL settles on a generic plan after five executions.
///
/// Every parameter is cast, so that the server infers each one's type whatever the bindings say (a `nil` goes as
/// an untyped NULL). The document goes as `text` and is parsed by the `::jsonb` cast, as before: an invalid
/// document fails the execution (22P02), not the binding.
///
/// The run's guard accepts a run at `page - 2` as well as `page - 1` pages, so that a page written while the one
/// before it commits (`SyncRunPass`) waits for that commit on the run's row instead of missing it: a row the
/// snapshot shows at `page - 2` is locked by the previous page's transaction, and once that commits PostgreSQL
/// re-checks the guard on the row's new version. The page moves the run on only when the count it leaves is `page`
/// (`progressed`); otherwise, the previous page having rolled back, the caller rolls this one back too.
struct SyncPageStatement: PostgresPreparedStatement {
    static let name = "switchyard_write_sync_page_v3"
    static let sql = """
        WITH page AS (
            SELECT $1::text::jsonb AS doc
        ), located AS (
            SELECT doc #> $2::text[] AS records FROM page
        ), elements AS (
            SELECT e.value AS data, e.ordinality AS position,
                   CASE WHEN jsonb_typeof(e.value #> $3::text[]) IN ('string', 'number') THEN e.value #>> $3::text[] END AS external_id,
                   e.value #> $4::text[] AS modified
              FROM located CROSS JOIN LATERAL jsonb_array_elements(
                   CASE jsonb_typeof(located.records)
                        WHEN 'array' THEN located.records
                        WHEN 'object' THEN CASE WHEN $5::bool THEN jsonb_build_array(located.records) END
                   END) WITH ORDINALITY e
        ), invalid AS (
            SELECT min(position) AS position FROM elements WHERE external_id IS NULL OR length(external_id) NOT BETWEEN 1 AND 512
        ), items AS (
            SELECT DISTINCT ON (external_id) external_id, data FROM elements
             WHERE (SELECT position FROM invalid) IS NULL ORDER BY external_id, position DESC
        ), written AS (
            INSERT INTO sync_records (tenant_id, integration_id, model, external_id, data, content_hash)
            SELECT $6::uuid, $7::uuid, $8::text, external_id, data, sha256(convert_to(data::text, 'UTF8')) FROM items
            ON CONFLICT (tenant_id, integration_id, model, external_id) DO UPDATE
               SET data = EXCLUDED.data, content_hash = EXCLUDED.content_hash, modified_at = now(), deleted_at = NULL,
                   change_xid = pg_current_xact_id(), change_seq = nextval('sync_record_change_seq')
             WHERE sync_records.content_hash <> EXCLUDED.content_hash OR sync_records.deleted_at IS NOT NULL
            RETURNING (xmax = 0) AS inserted
        ), seen AS (
            INSERT INTO sync_run_pages (tenant_id, run_id, page, external_ids)
            SELECT $6::uuid, $9::uuid, $10::int4, array_agg(external_id) FROM items
             WHERE $11::bool AND $9::uuid IS NOT NULL HAVING count(*) > 0
            -- A second attempt of the run writing the same page (a lease that expired under a live executor) finds
            -- the first one's row; its progress update then fails and rolls this page back.
            ON CONFLICT (tenant_id, run_id, page) DO NOTHING
            RETURNING 1
        ), progress AS (
            UPDATE sync_runs
               SET pages = pages + 1,
                   added = added + (SELECT count(*) FILTER (WHERE inserted) FROM written),
                   updated = updated + (SELECT count(*) FILTER (WHERE NOT inserted) FROM written),
                   unchanged = unchanged + (SELECT count(*) FROM items) - (SELECT count(*) FROM written),
                   position = $16::text::jsonb,
                   last_page = jsonb_build_object(
                       'records', (SELECT count(*) FROM elements),
                       'next_cursor', (SELECT doc #>> $12::text[] FROM page),
                       'next_url', (SELECT doc #>> $13::text[] FROM page),
                       'has_more', (SELECT doc #> $14::text[] FROM page),
                       'last_record_cursor', (SELECT data #>> $15::text[] FROM elements ORDER BY position DESC LIMIT 1),
                       'link_next', $17::text),
                   checkpoint = GREATEST(checkpoint, (SELECT modified FROM elements
                                                       WHERE jsonb_typeof(modified) IN ('string', 'number') ORDER BY modified DESC LIMIT 1))
             WHERE tenant_id = $6::uuid AND id = $9::uuid AND pages BETWEEN $10::int4 - 2 AND $10::int4 - 1 AND status = 'running'
            RETURNING pages
        )
        SELECT (SELECT jsonb_typeof(records) FROM located) AS records_type,
               (SELECT count(*) FROM elements)::int8 AS record_count,
               (SELECT count(*) FROM items)::int8 AS distinct_count,
               (SELECT position FROM invalid)::int8 AS invalid_record,
               (SELECT count(*) FILTER (WHERE inserted) FROM written)::int8 AS added,
               (SELECT count(*) FILTER (WHERE NOT inserted) FROM written)::int8 AS updated,
               (SELECT count(*) FROM seen)::int8 AS seen,
               (SELECT doc #>> $12::text[] FROM page) AS next_cursor,
               (SELECT doc #>> $13::text[] FROM page) AS next_url,
               (SELECT (doc #> $14::text[])::text FROM page) AS has_more,
               (SELECT data #>> $15::text[] FROM elements ORDER BY position DESC LIMIT 1) AS last_record_cursor,
               (SELECT modified::text FROM elements WHERE jsonb_typeof(modified) IN ('string', 'number') ORDER BY modified DESC LIMIT 1) AS max_modified,
               (SELECT count(*) FROM progress WHERE pages = $10::int4)::int8 AS progressed
        """

    let tenant: UUID
    let page: SyncPageWrite

    func makeBindings() throws -> PostgresBindings {
        try bindings(
            page.document,
            page.records,
            page.id,
            page.modified,
            page.allowsSingleRecord,
            tenant,
            page.integration,
            page.model,
            page.run?.run,
            page.run.map { Int32(clamping: $0.page) },
            page.run?.recordsSeenIDs ?? false,
            page.nextCursor,
            page.nextURL,
            page.hasMore,
            page.cursorFromLastRecord,
            page.run?.position,
            page.run?.linkNext
        )
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
