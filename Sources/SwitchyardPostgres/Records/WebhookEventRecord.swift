import Foundation
import NIOCore
import PostgresNIO
import SwitchyardCore

/// A verified delivery on its way into `webhook_events`.
public struct NewWebhookEvent: Sendable {
    public let tenantID: TenantID
    public let id: UUID
    public let sourceID: UUID
    public let eventID: String
    public let eventType: String?
    public let integrationID: UUID?
    /// The delivery's headers as a JSON object, signatures and credentials already redacted.
    public let headers: String
    public let body: ByteBuffer

    public init(tenantID: TenantID, sourceID: UUID, eventID: String, eventType: String?, integrationID: UUID?, headers: String, body: ByteBuffer) {
        self.tenantID = tenantID
        self.id = UUID.v7()
        self.sourceID = sourceID
        self.eventID = eventID
        self.eventType = eventType
        self.integrationID = integrationID
        self.headers = headers
        self.body = body
    }
}

/// A row of `webhook_events`.
public struct WebhookEventRecord: Sendable, Equatable {
    public let id: UUID
    public let sourceID: UUID
    public let eventID: String
    public let eventType: String?
    public let integrationID: UUID?
    public let headers: [String: String]
    public let body: ByteBuffer
    public let status: WebhookEventStatus
    public let attempts: Int
    public let lastError: String?
    public let receivedAt: Date
    public let processedAt: Date?

    static let columns =
        "id, source_id, event_id, event_type, integration_id, headers::text, body, status, attempts, last_error, received_at, processed_at"
    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "webhook_events")
        id = try row("id")
        sourceID = try row("source_id")
        eventID = try row("event_id")
        eventType = try row("event_type")
        integrationID = try row("integration_id")
        headers = try row.json("headers")
        body = try row("body")
        status = try row.value("status")
        attempts = try row("attempts")
        lastError = try row("last_error")
        receivedAt = try row("received_at")
        processedAt = try row("processed_at")
    }
}

/// Which events a list shows.
public struct WebhookEventFilter: Sendable {
    public var sourceID: UUID?
    public var eventType: String?
    public var status: WebhookEventStatus?
    public var receivedAfter: Date?
    public var receivedBefore: Date?

    public init(
        sourceID: UUID? = nil,
        eventType: String? = nil,
        status: WebhookEventStatus? = nil,
        receivedAfter: Date? = nil,
        receivedBefore: Date? = nil
    ) {
        self.sourceID = sourceID
        self.eventType = eventType
        self.status = status
        self.receivedAfter = receivedAfter
        self.receivedBefore = receivedBefore
    }
}

extension IngestSession {
    /// Inserts a batch of verified deliveries in one statement, with one job of `processing`'s kind per tenant listing
    /// its new events (`{"event_ids": [...]}`, REQUIREMENTS RL-1); returns the ids of the events that were new (a redelivery of a
    /// recorded (tenant, source, event id) is skipped, WH-6, and processed no further). The statement commits
    /// on its own (the session is in autocommit), so the batch costs one WAL flush, and returns only once that
    /// commit is durable (see `guardedAutocommit`).
    public func insertWebhookEvents(_ events: [NewWebhookEvent], processing: WebhookProcessPayload.Type) async throws -> Set<UUID> {
        guard !events.isEmpty else { return [] }
        let statement = InsertWebhookEventsStatement(events, jobKind: processing.kind, maxAttempts: processing.maxAttempts)
        let inserted = Set(try await connection.guardedAutocommit(statement, statements, logger: logger))
        return inserted
    }

}

/// The ingest hot path's statement, prepared once per connection so PostgreSQL plans it once (`StatementPreparation`).
///
/// It turns the ingest mode on itself, for its own transaction alone (`set_config(..., true)` in an autocommitted
/// statement lasts until that statement commits): the row-level security policies that name `app_is_ingest()` then
/// let it write any tenant's events and jobs, and the mode cannot outlive it on the session, which a pooler in
/// transaction mode (PgBouncer) hands to others. A login parameter (`app.ingest=on` for the whole session, as before)
/// is what PgBouncer refuses, and setting the mode in a statement of its own would take an explicit transaction:
/// BEGIN, set, insert, COMMIT, twice the round trips of this one. The setting is a filter on each source row, and
/// a volatile filter runs before its row reaches the insert (never hoisted into a one-time test, and `IS NOT NULL`
/// keeps the row estimate as it was), so every policy check sees the mode on.
struct InsertWebhookEventsStatement: PostgresPreparedStatement {
    static let name = "switchyard_insert_webhook_events_v2"
    // postgres-nio binds no arrays of optionals: '' and the nil UUID stand for NULL. Job ids are made by the
    // caller so they are time-ordered like every other id.
    static let sql = """
        WITH new_events AS (
            INSERT INTO webhook_events (tenant_id, id, source_id, event_id, event_type, integration_id, headers, body)
            SELECT t, i, s, e, nullif(ty, ''), nullif(ig, '00000000-0000-0000-0000-000000000000'::uuid), h::jsonb, b
              FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::bytea[]) AS x(t, i, s, e, ty, ig, h, b)
             WHERE set_config('app.ingest', 'on', true) IS NOT NULL
            ON CONFLICT (tenant_id, source_id, event_id) DO NOTHING
            RETURNING tenant_id, id
        ), new_jobs AS (
            INSERT INTO jobs (tenant_id, id, kind, payload, max_attempts)
            SELECT n.tenant_id, j.job_id, $11::text, jsonb_build_object('event_ids', jsonb_agg(n.id ORDER BY n.id)), $12::int
              FROM new_events n JOIN unnest($9::uuid[], $10::uuid[]) AS j(tenant_id, job_id) ON j.tenant_id = n.tenant_id
             GROUP BY n.tenant_id, j.job_id
        )
        SELECT id FROM new_events
        """
    static let nilUUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    let events: [NewWebhookEvent]
    let tenants: [UUID]
    let jobKind: String
    let maxAttempts: Int

    init(_ events: [NewWebhookEvent], jobKind: String, maxAttempts: Int) {
        self.events = events
        self.tenants = Array(Set(events.map(\.tenantID.rawValue)))
        self.jobKind = jobKind
        self.maxAttempts = maxAttempts
    }

    func makeBindings() throws -> PostgresBindings {
        try bindings(
            events.map(\.tenantID.rawValue),
            events.map(\.id),
            events.map(\.sourceID),
            events.map(\.eventID),
            events.map { $0.eventType ?? "" },
            events.map { $0.integrationID ?? Self.nilUUID },
            events.map(\.headers),
            events.map(\.body),
            tenants,
            tenants.map { _ in UUID.v7() },
            jobKind,
            maxAttempts
        )
    }

    func decodeRow(_ row: PostgresRow) throws -> UUID {
        try row.decode(UUID.self)
    }
}

extension TenantTransaction {
    /// The event; with `locking`, its row stays locked until the transaction ends (one processor at a time).
    public func webhookEvent(_ id: UUID, locking: Bool = false) async throws -> WebhookEventRecord? {
        try await query(
            """
            SELECT \(unescaped: WebhookEventRecord.columns) FROM webhook_events
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)\(unescaped: locking ? " FOR UPDATE" : "")
            """
        ).collect().first.map(WebhookEventRecord.init(row:))
    }

    /// The id of the event recorded for (source, provider event id), for answering a redelivery.
    public func webhookEventID(source: UUID, eventID: String) async throws -> UUID? {
        try await query("SELECT id FROM webhook_events WHERE tenant_id = \(tenantID.rawValue) AND source_id = \(source) AND event_id = \(eventID)")
            .decode(UUID.self).collect().first
    }

    /// Newest first.
    public func webhookEvents(_ filter: WebhookEventFilter, page: PageRequest) async throws -> Page<WebhookEventRecord> {
        let rows = try await query(
            """
            SELECT \(unescaped: WebhookEventRecord.columns) FROM webhook_events
             WHERE tenant_id = \(tenantID.rawValue)
               AND (\(page.cursor?.lastID)::uuid IS NULL OR id < \(page.cursor?.lastID))
               AND (\(filter.sourceID)::uuid IS NULL OR source_id = \(filter.sourceID))
               AND (\(filter.eventType)::text IS NULL OR event_type = \(filter.eventType))
               AND (\(filter.status?.rawValue)::text IS NULL OR status = \(filter.status?.rawValue))
               AND (\(filter.receivedAfter)::timestamptz IS NULL OR received_at >= \(filter.receivedAfter))
               AND (\(filter.receivedBefore)::timestamptz IS NULL OR received_at < \(filter.receivedBefore))
             ORDER BY id DESC LIMIT \(page.limit + 1)
            """
        ).collect()
        return Page(fetched: try rows.map(WebhookEventRecord.init(row:)), limit: page.limit, id: \.id)
    }

    /// Marks events to be processed again (`received`); returns their ids. Their jobs are the caller's to enqueue
    /// (`WebhookReplay`).
    public func markWebhookEventsForReplay(_ filter: WebhookEventFilter, ids: [UUID]?, limit: Int) async throws -> [UUID] {
        try await query(
            """
            UPDATE webhook_events SET status = 'received', processed_at = NULL, last_error = NULL
             WHERE tenant_id = \(tenantID.rawValue) AND id IN (
                   SELECT id FROM webhook_events
                    WHERE tenant_id = \(tenantID.rawValue)
                      AND (\(ids)::uuid[] IS NULL OR id = ANY(\(ids)))
                      AND (\(filter.sourceID)::uuid IS NULL OR source_id = \(filter.sourceID))
                      AND (\(filter.eventType)::text IS NULL OR event_type = \(filter.eventType))
                      AND (\(filter.status?.rawValue)::text IS NULL OR status = \(filter.status?.rawValue))
                      AND (\(filter.receivedAfter)::timestamptz IS NULL OR received_at >= \(filter.receivedAfter))
                      AND (\(filter.receivedBefore)::timestamptz IS NULL OR received_at < \(filter.receivedBefore))
                    ORDER BY id LIMIT \(limit))
            RETURNING id
            """
        ).decode(UUID.self).collect()
    }

    /// Records the outcome of processing event `id`: `processed` (with the integration it matched) or `failed`.
    public func finishWebhookEvent(_ id: UUID, processed: Bool, integrationID: UUID?, error: String?) async throws {
        try await query(
            """
            UPDATE webhook_events
               SET status = \(processed ? "processed" : "failed"), attempts = attempts + 1, last_error = \(error),
                   integration_id = coalesce(\(integrationID), integration_id), processed_at = CASE WHEN \(processed) THEN now() END
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
            """
        )
    }
}

extension QueueTransaction {
    /// Deletes up to `limit` webhook events received longer than `retention` ago, any tenant's; returns how many.
    public func pruneWebhookEvents(olderThan retention: Duration, limit: Int = 5000) async throws -> Int {
        let cutoff = Date().addingTimeInterval(-Double(retention.components.seconds))
        return try await query(
            """
            DELETE FROM webhook_events WHERE (tenant_id, id) IN (
                SELECT tenant_id, id FROM webhook_events WHERE received_at < \(cutoff) LIMIT \(limit))
            RETURNING id
            """
        ).decode(UUID.self).collect().count
    }
}
