import Foundation
import PostgresNIO
import SwitchyardCore

/// One run of a sync: its log (pages, what they did to the records store, the checkpoint it reached, the error
/// that ended it) and, while it runs, where the next page starts.
public struct SyncRunRecord: Sendable {
    public let id: UUID
    public let integrationID: UUID
    public let syncName: String
    public let model: String
    public let definitionVersion: Int
    public let mode: SyncRunMode
    public let trigger: SyncRunTrigger
    public let status: SyncRunStatus
    /// Where the last committed page was read, as the runner wrote it (JSON text); `nil` before the first page.
    public let position: String?
    /// What the last committed page said about the next one (JSON text: `records`, `next_cursor`, `next_url`,
    /// `has_more`, `last_record_cursor`, `link_next`).
    public let lastPage: String?
    public let pages: Int
    public let added: Int
    public let updated: Int
    public let unchanged: Int
    public let deleted: Int
    /// The checkpoint the run asks for changes after (incremental runs), as JSON text.
    public let since: String?
    /// The greatest last-modified value seen so far, as JSON text.
    public let checkpoint: String?
    public let error: String?
    public let createdAt: Date
    public let startedAt: Date?
    public let finishedAt: Date?

    static let columns = """
        id, integration_id, sync_name, model, definition_version, mode, trigger, status, position::text AS position, last_page::text AS last_page, pages, added, updated,
        unchanged, deleted, since::text AS since, checkpoint::text AS checkpoint, error, created_at, started_at, finished_at
        """

    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "sync_runs")
        id = try row("id")
        integrationID = try row("integration_id")
        syncName = try row("sync_name")
        model = try row("model")
        definitionVersion = try row("definition_version")
        mode = try row.value("mode")
        trigger = try row.value("trigger")
        status = try row.value("status")
        position = try row("position")
        lastPage = try row("last_page")
        pages = try row("pages")
        added = try row("added")
        updated = try row("updated")
        unchanged = try row("unchanged")
        deleted = try row("deleted")
        since = try row("since")
        checkpoint = try row("checkpoint")
        error = try row("error")
        createdAt = try row("created_at")
        startedAt = try row("started_at")
        finishedAt = try row("finished_at")
    }
}

/// A run about to be recorded beside its job.
public struct NewSyncRun: Sendable {
    public var id: UUID
    public var integrationID: UUID
    public var syncName: String
    public var model: String
    public var definitionVersion: Int
    public var mode: SyncRunMode
    public var trigger: SyncRunTrigger
    public var since: String?

    public init(
        id: UUID,
        integrationID: UUID,
        syncName: String,
        model: String,
        definitionVersion: Int,
        mode: SyncRunMode,
        trigger: SyncRunTrigger,
        since: String?
    ) {
        self.id = id
        self.integrationID = integrationID
        self.syncName = syncName
        self.model = model
        self.definitionVersion = definitionVersion
        self.mode = mode
        self.trigger = trigger
        self.since = since
    }
}

extension TenantTransaction {
    public func insertSyncRun(_ run: NewSyncRun) async throws -> SyncRunRecord {
        try await query(
            """
            INSERT INTO sync_runs (tenant_id, id, integration_id, sync_name, model, definition_version, mode, trigger, since)
            VALUES (\(tenantID.rawValue), \(run.id), \(run.integrationID), \(run.syncName), \(run.model), \(run.definitionVersion),
                    \(run.mode.rawValue), \(run.trigger.rawValue), \(run.since)::jsonb)
            RETURNING \(unescaped: SyncRunRecord.columns)
            """
        ).collect().map(SyncRunRecord.init(row:))[0]
    }

    public func syncRun(_ id: UUID) async throws -> SyncRunRecord? {
        try await query(
            "SELECT \(unescaped: SyncRunRecord.columns) FROM sync_runs WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)"
        ).collect().first.map(SyncRunRecord.init(row:))
    }

    /// Runs newest first, of one integration and optionally one of its syncs.
    public func syncRuns(integration: UUID, sync: String?, page: PageRequest) async throws -> Page<SyncRunRecord> {
        let rows = try await query(
            """
            SELECT \(unescaped: SyncRunRecord.columns) FROM sync_runs
             WHERE tenant_id = \(tenantID.rawValue) AND integration_id = \(integration)
               AND (\(sync)::text IS NULL OR sync_name = \(sync))
               AND (\(page.cursor?.lastID)::uuid IS NULL OR id < \(page.cursor?.lastID))
             ORDER BY id DESC LIMIT \(page.limit + 1)
            """
        ).collect()
        return Page(fetched: try rows.map(SyncRunRecord.init(row:)), limit: page.limit, id: \.id)
    }

    /// The newest run of each of the integration's syncs (queued, running or finished), by sync name.
    public func latestSyncRuns(integration: UUID) async throws -> [String: SyncRunRecord] {
        let runs = try await query(
            """
            SELECT DISTINCT ON (sync_name) \(unescaped: SyncRunRecord.columns) FROM sync_runs
             WHERE tenant_id = \(tenantID.rawValue) AND integration_id = \(integration)
             ORDER BY sync_name, id DESC
            """
        ).collect().map(SyncRunRecord.init(row:))
        return Dictionary(runs.map { ($0.syncName, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Marks the run running (its first attempt) and returns it; `nil` when it does not exist.
    public func startSyncRun(_ id: UUID) async throws -> SyncRunRecord? {
        let started = try await query(
            """
            UPDATE sync_runs SET status = 'running', started_at = coalesce(started_at, now())
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) AND status IN ('queued', 'running')
            RETURNING \(unescaped: SyncRunRecord.columns)
            """
        ).collect().first.map(SyncRunRecord.init(row:))
        if let started { return started }
        return try await syncRun(id)
    }

    /// Marks `model`'s records that no page of the full run `run` named as deleted; returns how many.
    public func markUnseenSyncRecordsDeleted(run: UUID, integration: UUID, model: String) async throws -> Int {
        // The ids no page named are computed once, by EXCEPT (a hashed or sorted set difference, whatever the
        // estimates), into an array joined back by id. A `NOT EXISTS` against the seen ids was planned, on tables
        // just filled and not yet analyzed (a first full run), as a nested-loop anti-join re-reading every seen id
        // for every record: quadratic, past the statement timeout at 100,000 records, so such a run never finished.
        try await query(
            """
            UPDATE sync_records r
               SET deleted_at = now(), modified_at = now(), change_xid = pg_current_xact_id(), change_seq = nextval('sync_record_change_seq')
              FROM unnest(ARRAY(
                    SELECT external_id FROM sync_records
                     WHERE tenant_id = \(tenantID.rawValue) AND integration_id = \(integration) AND model = \(model) AND deleted_at IS NULL
                    EXCEPT
                    SELECT unnest(external_ids) FROM sync_run_pages WHERE tenant_id = \(tenantID.rawValue) AND run_id = \(run)
                   )) AS gone(external_id)
             WHERE r.tenant_id = \(tenantID.rawValue) AND r.integration_id = \(integration) AND r.model = \(model) AND r.deleted_at IS NULL
               AND r.external_id = gone.external_id
            RETURNING 1
            """
        ).decode(Int.self).collect().count
    }

    /// Ends the run: `succeeded` (with the records it deleted) or `failed` (with its error). Its page list goes.
    /// Returns the finished run, or `nil` when it had finished already.
    public func finishSyncRun(_ id: UUID, status: SyncRunStatus, deleted: Int = 0, error: String? = nil) async throws -> SyncRunRecord? {
        try await query("DELETE FROM sync_run_pages WHERE tenant_id = \(tenantID.rawValue) AND run_id = \(id)")
        return try await query(
            """
            UPDATE sync_runs SET status = \(status.rawValue), deleted = \(deleted), error = \(error), finished_at = now(),
                   started_at = coalesce(started_at, now())
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) AND status IN ('queued', 'running')
            RETURNING \(unescaped: SyncRunRecord.columns)
            """
        ).collect().first.map(SyncRunRecord.init(row:))
    }

    /// Keeps a transient failure on the run while its job waits to retry.
    public func noteSyncRunError(_ id: UUID, error: String) async throws {
        try await query("UPDATE sync_runs SET error = \(error) WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) AND status = 'running'")
    }

    /// After a run ends: the integration's sync remembers it and, when given (a completed run), its checkpoint.
    public func recordLastSyncRun(integration: UUID, name: String, run: UUID, checkpoint: String?) async throws {
        // A run started before the checkpoint was last reset does not bring the forgotten checkpoint back.
        try await query(
            """
            UPDATE integration_syncs s
               SET last_run_id = r.id, updated_at = now(),
                   checkpoint = CASE WHEN s.checkpoint_reset_at IS NULL OR s.checkpoint_reset_at <= r.created_at
                                     THEN coalesce(\(checkpoint)::jsonb, s.checkpoint) ELSE s.checkpoint END
              FROM sync_runs r
             WHERE s.tenant_id = \(tenantID.rawValue) AND s.integration_id = \(integration) AND s.sync_name = \(name)
               AND r.tenant_id = s.tenant_id AND r.id = \(run)
            """
        )
    }
}
