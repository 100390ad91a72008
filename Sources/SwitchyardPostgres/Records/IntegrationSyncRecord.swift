import Foundation
import PostgresNIO
import SwitchyardCore

/// One integration's state of one sync. An integration that never touched a sync has no row: the sync is then
/// disabled, with the definition's frequency and no checkpoint.
public struct IntegrationSyncRecord: Sendable, Equatable {
    public let integrationID: UUID
    public let syncName: String
    public let enabled: Bool
    /// The integration's own frequency; `nil` follows the definition's.
    public let frequencySeconds: Int?
    public let paused: Bool
    /// The greatest last-modified value the last completed run saw, as JSON text; the next incremental run asks
    /// for changes after it.
    public let checkpoint: String?
    public let nextRunAt: Date
    public let lastRunID: UUID?
    public let updatedAt: Date

    static let columns = """
        integration_id, sync_name, enabled, frequency_seconds, paused, checkpoint::text AS checkpoint, next_run_at, last_run_id, updated_at
        """

    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "integration_syncs")
        integrationID = try row("integration_id")
        syncName = try row("sync_name")
        enabled = try row("enabled")
        frequencySeconds = try row("frequency_seconds")
        paused = try row("paused")
        checkpoint = try row("checkpoint")
        nextRunAt = try row("next_run_at")
        lastRunID = try row("last_run_id")
        updatedAt = try row("updated_at")
    }
}

/// What a change to an integration's sync sets; `nil` members stay as they are.
public struct IntegrationSyncChange: Sendable {
    public var enabled: Bool?
    /// `.some(nil)` goes back to the definition's frequency.
    public var frequencySeconds: Int??
    public var paused: Bool?
    /// Forget the checkpoint, so the next run reads everything.
    public var forgetCheckpoint = false
    public var nextRunAt: Date?

    public init(enabled: Bool? = nil, frequencySeconds: Int?? = nil, paused: Bool? = nil, forgetCheckpoint: Bool = false, nextRunAt: Date? = nil) {
        self.enabled = enabled
        self.frequencySeconds = frequencySeconds
        self.paused = paused
        self.forgetCheckpoint = forgetCheckpoint
        self.nextRunAt = nextRunAt
    }
}

extension TenantTransaction {
    public func integrationSyncs(integration: UUID) async throws -> [IntegrationSyncRecord] {
        try await query(
            """
            SELECT \(unescaped: IntegrationSyncRecord.columns) FROM integration_syncs
             WHERE tenant_id = \(tenantID.rawValue) AND integration_id = \(integration) ORDER BY sync_name
            """
        ).collect().map(IntegrationSyncRecord.init(row:))
    }

    /// The state, locked for the rest of the transaction when `locking` (run starts and completions take it).
    public func integrationSync(integration: UUID, name: String, locking: Bool = false) async throws -> IntegrationSyncRecord? {
        try await query(
            """
            SELECT \(unescaped: IntegrationSyncRecord.columns) FROM integration_syncs
             WHERE tenant_id = \(tenantID.rawValue) AND integration_id = \(integration) AND sync_name = \(name)
            \(unescaped: locking ? "FOR UPDATE" : "")
            """
        ).collect().first.map(IntegrationSyncRecord.init(row:))
    }

    /// Applies `change`, creating the row (disabled unless `change` enables it) when there is none.
    @discardableResult
    public func changeIntegrationSync(integration: UUID, name: String, _ change: IntegrationSyncChange) async throws -> IntegrationSyncRecord {
        let setsFrequency = change.frequencySeconds != nil
        let frequency = change.frequencySeconds ?? nil
        return try await query(
            """
            INSERT INTO integration_syncs AS s (tenant_id, integration_id, sync_name, enabled, frequency_seconds, paused, next_run_at)
            VALUES (\(tenantID.rawValue), \(integration), \(name), coalesce(\(change.enabled), false), \(frequency), coalesce(\(change.paused), false),
                    coalesce(\(change.nextRunAt), now()))
            ON CONFLICT (tenant_id, integration_id, sync_name) DO UPDATE
               SET enabled = coalesce(\(change.enabled), s.enabled),
                   frequency_seconds = CASE WHEN \(setsFrequency) THEN \(frequency) ELSE s.frequency_seconds END,
                   paused = coalesce(\(change.paused), s.paused),
                   checkpoint = CASE WHEN \(change.forgetCheckpoint) THEN NULL ELSE s.checkpoint END,
                   checkpoint_reset_at = CASE WHEN \(change.forgetCheckpoint) THEN now() ELSE s.checkpoint_reset_at END,
                   next_run_at = coalesce(\(change.nextRunAt), s.next_run_at),
                   updated_at = now()
            RETURNING \(unescaped: IntegrationSyncRecord.columns)
            """
        ).collect().map(IntegrationSyncRecord.init(row:))[0]
    }
}

extension TenantTransaction {
    /// The sync's state when it is still enabled, unpaused and due, locked; `nil` when another scheduler holds it
    /// or it is no longer due.
    public func lockDueIntegrationSync(integration: UUID, name: String) async throws -> IntegrationSyncRecord? {
        try await query(
            """
            SELECT \(unescaped: IntegrationSyncRecord.columns) FROM integration_syncs
             WHERE tenant_id = \(tenantID.rawValue) AND integration_id = \(integration) AND sync_name = \(name)
               AND enabled AND NOT paused AND next_run_at <= now()
               FOR UPDATE SKIP LOCKED
            """
        ).collect().first.map(IntegrationSyncRecord.init(row:))
    }

    /// Moves the sync's next run to `seconds` from now.
    public func scheduleNextSyncRun(integration: UUID, name: String, inSeconds seconds: Int) async throws {
        try await query(
            """
            UPDATE integration_syncs SET next_run_at = now() + \(seconds) * interval '1 second', updated_at = now()
             WHERE tenant_id = \(tenantID.rawValue) AND integration_id = \(integration) AND sync_name = \(name)
            """
        )
    }
}

/// An enabled, unpaused sync of a connected integration whose next run is due.
public struct DueSync: Sendable {
    public let tenantID: TenantID
    public let integrationID: UUID
    public let syncName: String
}

extension QueueTransaction {
    /// Up to `limit` due syncs, oldest due first. Only connected integrations' syncs are due: a connection lost
    /// (`needs_reauth`) pauses them and reconnecting resumes them.
    public func dueSyncs(limit: Int) async throws -> [DueSync] {
        try await query(
            """
            SELECT s.tenant_id, s.integration_id, s.sync_name FROM integration_syncs s
              JOIN integrations i ON i.tenant_id = s.tenant_id AND i.id = s.integration_id
             WHERE s.enabled AND NOT s.paused AND s.next_run_at <= now() AND i.status = 'connected'
             ORDER BY s.next_run_at LIMIT \(limit)
            """
        ).decode((UUID, UUID, String).self).collect().map { DueSync(tenantID: TenantID($0.0), integrationID: $0.1, syncName: $0.2) }
    }

    /// Deletes up to `limit` records deleted longer than `retention` ago.
    public func pruneDeletedSyncRecords(olderThan retention: Duration, limit: Int = 5000) async throws -> Int {
        try await query(
            """
            DELETE FROM sync_records WHERE ctid = ANY (ARRAY(
                SELECT ctid FROM sync_records WHERE deleted_at < now() - \(retention.wholeMilliseconds) * interval '1 millisecond' LIMIT \(limit)))
            RETURNING 1
            """
        ).decode(Int.self).collect().count
    }
}
