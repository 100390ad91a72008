import Foundation
import PostgresNIO
import SwitchyardCore

/// One provider response to store: the document as received and the pointers (as `text[]` paths) that say where
/// its records, their ids and the pagination's next step are.
///
/// PostgreSQL parses the document once, as `jsonb`, and does the rest in the statement that writes the page: it
/// finds the records, reads their ids, hashes their canonical `jsonb` text (so a provider reordering keys is not a
/// change), upserts them and reads the next cursor. The executor never parses a page.
public struct SyncPageWrite: Sendable {
    public var integration: UUID
    public var model: String
    public var document: String
    public var records: [String]
    /// Accept an object where the records should be (a webhook payload's one record).
    public var allowsSingleRecord = false
    public var id: [String]
    public var modified: [String]?
    public var nextCursor: [String]?
    public var cursorFromLastRecord: [String]?
    public var nextURL: [String]?
    public var hasMore: [String]?
    /// A run's page: the run moves past it in the same statement.
    public var run: SyncPageProgress?

    public init(integration: UUID, model: String, document: String, records: [String], id: [String]) {
        self.integration = integration
        self.model = model
        self.document = document
        self.records = records
        self.id = id
    }
}

/// The run a page belongs to, moved past the page by the statement that writes it, provided it has `page - 1`
/// pages once any page still committing has (otherwise another attempt of the run wrote this page, or the page
/// before it rolled back; `SyncPageFacts.progressed` is false and the caller rolls back).
public struct SyncPageProgress: Sendable {
    public var run: UUID
    /// The page's number, from 1.
    public var page: Int
    /// Where the page was read (JSON text): with `last_page`, what the run resumes from.
    public var position: String
    /// The `Link` header's `rel="next"` target, kept with the page's facts.
    public var linkNext: String?
    /// A full run's page: its ids are kept for delete detection.
    public var recordsSeenIDs: Bool

    public init(run: UUID, page: Int, position: String, linkNext: String?, recordsSeenIDs: Bool) {
        self.run = run
        self.page = page
        self.position = position
        self.linkNext = linkNext
        self.recordsSeenIDs = recordsSeenIDs
    }
}

/// What the page held and what writing it did. Nothing is written when the records are not an array (or an object,
/// where one is allowed) or when a record has no usable id.
public struct SyncPageFacts: Sendable {
    /// The `jsonb_typeof` of what is at the records pointer; `nil` when nothing is there.
    public let recordsType: String?
    public let recordCount: Int
    /// The 1-based position of the first record without a string or number id (of 1 to 512 characters).
    public let invalidRecord: Int?
    public let outcome: SyncPageOutcome
    public let nextCursor: String?
    public let nextURL: String?
    /// `true` or `false` when the document holds a boolean there.
    public let hasMore: Bool?
    public let lastRecordCursor: String?
    /// The greatest last-modified value among the records, as JSON text.
    public let maxModified: String?
    /// Whether the run (when the page is a run's) moved past the page.
    public let progressed: Bool
}

extension TenantTransaction {
    public func writeSyncPage(_ page: SyncPageWrite) async throws -> SyncPageFacts {
        let rows = try await connection.guardedExecute(SyncPageStatement(tenant: tenantID.rawValue, page: page), statements, logger: logger)
        let row = NamedRow(rows[0], table: "sync_records")
        let distinct: Int = try row("distinct_count")
        let added: Int = try row("added")
        let updated: Int = try row("updated")
        let hasMore: String? = try row("has_more")
        return SyncPageFacts(
            recordsType: try row("records_type"),
            recordCount: try row("record_count"),
            invalidRecord: try row("invalid_record"),
            outcome: SyncPageOutcome(added: added, updated: updated, unchanged: distinct - added - updated),
            nextCursor: try row("next_cursor"),
            nextURL: try row("next_url"),
            hasMore: hasMore == "true" ? true : hasMore == "false" ? false : nil,
            lastRecordCursor: try row("last_record_cursor"),
            maxModified: try row("max_modified"),
            progressed: (try row("progressed") as Int) == 1
        )
    }
}

extension TenantTransaction {
    /// Marks deleted the record whose id is at `idPath` in `document` (a webhook payload); returns whether one was.
    public func deleteSyncRecord(named idPath: [String], in document: String, integration: UUID, model: String) async throws -> Bool {
        try await query(
            """
            UPDATE sync_records
               SET deleted_at = now(), modified_at = now(), change_xid = pg_current_xact_id(), change_seq = nextval('sync_record_change_seq')
             WHERE tenant_id = \(tenantID.rawValue) AND integration_id = \(integration) AND model = \(model) AND deleted_at IS NULL
               AND external_id = (\(document)::jsonb #>> \(idPath)::text[])
            RETURNING 1
            """
        ).decode(Int.self).collect().isEmpty == false
    }
}
