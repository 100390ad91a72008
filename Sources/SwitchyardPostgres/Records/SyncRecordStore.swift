import Foundation
import NIOCore
import PostgresNIO
import SwitchyardCore

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
