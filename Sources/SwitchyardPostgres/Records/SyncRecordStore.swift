import Foundation
import NIOCore
import PostgresNIO
import SwitchyardCore

/// A record as a sync page delivers it: the provider's id for it and its JSON. The content hash is SHA-256 of the
/// record's canonical `jsonb` text, as `writeSyncPage` computes it, so key order and spacing are not changes.
public struct SyncRecordInput: Sendable {
    public var externalID: String
    public var json: String

    public init(externalID: String, json: String) {
        self.externalID = externalID
        self.json = json
    }
}

/// What writing one page did.
public struct SyncPageOutcome: Sendable, Equatable {
    public var added = 0
    public var updated = 0
    public var unchanged = 0

    public init(added: Int = 0, updated: Int = 0, unchanged: Int = 0) {
        self.added = added
        self.updated = updated
        self.unchanged = unchanged
    }
}

/// A position in a model's change feed: after the change `(transactionID, sequence)`.
public struct SyncChangeCursor: Sendable, Hashable, Comparable {
    public var transactionID: Int64
    public var sequence: Int64

    public init(transactionID: Int64, sequence: Int64) {
        self.transactionID = transactionID
        self.sequence = sequence
    }

    /// The API's form, `<transaction id>-<sequence>`.
    public var token: String { "\(transactionID)-\(sequence)" }

    public init?(token: String) {
        let parts = token.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (48...57).contains($0) } }),
            let transactionID = Int64(parts[0]), let sequence = Int64(parts[1])
        else { return nil }
        self.init(transactionID: transactionID, sequence: sequence)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.transactionID, lhs.sequence) < (rhs.transactionID, rhs.sequence)
    }
}

/// One change of the feed: the record as it is now (deleted or not) and where the feed stands after it.
public struct SyncRecordChange: Sendable {
    public let externalID: String
    public let json: String
    public let deletedAt: Date?
    public let modifiedAt: Date
    public let cursor: SyncChangeCursor
}

extension TenantTransaction {
    /// Writes one page of records in one statement. A record whose content hash is unchanged (and that is not
    /// deleted) is not rewritten and does not appear in the change feed again.
    public func upsertSyncRecords(_ records: [SyncRecordInput], integration: UUID, model: String) async throws -> SyncPageOutcome {
        guard !records.isEmpty else { return SyncPageOutcome() }
        let inserted = try await query(
            """
            INSERT INTO sync_records (tenant_id, integration_id, model, external_id, data, content_hash)
            SELECT \(tenantID.rawValue), \(integration), \(model), r.external_id, r.data, sha256(convert_to(r.data::text, 'UTF8'))
              FROM unnest(\(records.map(\.externalID))::text[], \(records.map(\.json))::jsonb[]) AS r(external_id, data)
            ON CONFLICT (tenant_id, integration_id, model, external_id) DO UPDATE
               SET data = EXCLUDED.data, content_hash = EXCLUDED.content_hash, modified_at = now(), deleted_at = NULL,
                   change_xid = pg_current_xact_id(), change_seq = nextval('sync_record_change_seq')
             WHERE sync_records.content_hash <> EXCLUDED.content_hash OR sync_records.deleted_at IS NOT NULL
            RETURNING (xmax = 0) AS inserted
            """
        ).decode(Bool.self).collect()
        let added = inserted.filter { $0 }.count
        return SyncPageOutcome(added: added, updated: inserted.count - added, unchanged: records.count - inserted.count)
    }

    /// Marks the named records deleted (a change in the feed); returns how many were not deleted already.
    public func deleteSyncRecords(_ externalIDs: [String], integration: UUID, model: String) async throws -> Int {
        try await query(
            """
            UPDATE sync_records
               SET deleted_at = now(), modified_at = now(), change_xid = pg_current_xact_id(), change_seq = nextval('sync_record_change_seq')
             WHERE tenant_id = \(tenantID.rawValue) AND integration_id = \(integration) AND model = \(model)
               AND external_id = ANY(\(externalIDs)::text[]) AND deleted_at IS NULL
            RETURNING 1
            """
        ).decode(Int.self).collect().count
    }

    /// Up to `limit` changes of the model after `cursor`, oldest first. Only changes of transactions below this
    /// snapshot's xmin are returned: each of those has finished, so no change can later appear before the last one
    /// returned (see `Migrations/0021_create_sync_records.sql`). `modifiedAfter` leaves out the records last modified
    /// at or before it; the cursor still orders and positions the feed.
    public func syncRecordChanges(
        integration: UUID,
        model: String,
        after cursor: SyncChangeCursor?,
        limit: Int,
        includeDeleted: Bool = true,
        modifiedAfter: Date? = nil
    ) async throws -> [SyncRecordChange] {
        let after = cursor ?? SyncChangeCursor(transactionID: 0, sequence: 0)
        return try await query(
            """
            SELECT external_id, data::text AS data, deleted_at, modified_at, change_xid::text::bigint AS change_xid, change_seq
              FROM sync_records
             WHERE tenant_id = \(tenantID.rawValue) AND integration_id = \(integration) AND model = \(model)
               AND (change_xid, change_seq) > (\(String(after.transactionID))::xid8, \(after.sequence))
               AND change_xid < pg_snapshot_xmin(pg_current_snapshot())
               AND (\(includeDeleted) OR deleted_at IS NULL)
               AND (\(modifiedAfter)::timestamptz IS NULL OR modified_at > \(modifiedAfter))
             ORDER BY change_xid, change_seq
             LIMIT \(limit)
            """
        ).collect().map { result in
            let row = NamedRow(result, table: "sync_records")
            return SyncRecordChange(
                externalID: try row("external_id"),
                json: try row("data"),
                deletedAt: try row("deleted_at"),
                modifiedAt: try row("modified_at"),
                cursor: SyncChangeCursor(transactionID: try row("change_xid"), sequence: try row("change_seq"))
            )
        }
    }
}
