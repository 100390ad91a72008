import Foundation
import PostgresNIO
import SwitchyardCore

/// A delivery: one event on its way to one destination, as the deliveries API shows it. It is a `destination.deliver`
/// job, whose state is the delivery's status and whose history the attempts; before its first attempt is written, it
/// is one of the deliveries a `destination.fan_out` job names.
public struct DeliveryRecord: Sendable {
    public let id: UUID
    public let destinationID: UUID
    public let eventID: UUID
    public let eventType: String
    public let state: JobState
    public let attempts: Int
    public let maxAttempts: Int
    /// When it is due while it waits; nil while its destination is disabled, and once it is finished.
    public let nextAttemptAt: Date?
    public let lastError: String?
    public let createdAt: Date
    public let finishedAt: Date?
    public let updatedAt: Date
    /// The JSON sent and the attempts so far: read for one delivery, nil in lists.
    public let body: String?
    public let history: [JobAttempt]?

    /// Every delivery of the tenant, as rows `j` with the columns below: the `destination.deliver` jobs; the deliveries
    /// a fan-out delivered at its first attempt (`delivered_first_attempts`, whose body is their event's and whose one
    /// attempt is the history entry a job would have); and the deliveries a `destination.fan_out` job has yet to write
    /// (its payload names them, with the ids they will have), shown queued, or running while the fan-out runs, until
    /// their first attempt is written.
    static let source = """
        (SELECT j.tenant_id, j.id, j.destination_id, j.event_id, j.payload->>'body' AS body, j.state, j.attempts, j.max_attempts,
                j.run_at, j.last_error, j.created_at, j.finished_at, j.updated_at, j.history
           FROM jobs j
          WHERE j.kind = '\(DestinationDeliveryPayload.kind)' AND j.destination_id IS NOT NULL
         UNION ALL
         SELECT s.tenant_id, s.id, s.destination_id, s.event_id, app_event_body(e.id, e.type, e.integration_id, e.data, e.created_at),
                'succeeded', 1, \(DestinationDeliveryPayload.maxAttempts), s.created_at, NULL::text, s.created_at, s.finished_at,
                s.created_at,
                jsonb_build_array(jsonb_build_object('attempt', 1, 'outcome', 'succeeded', 'error', NULL,
                                                     'started_at', extract(epoch FROM s.started_at), 'finished_at', extract(epoch FROM s.finished_at),
                                                     'retry_at', NULL)
                                  || CASE WHEN s.detail = '{}'::jsonb THEN '{}'::jsonb ELSE jsonb_build_object('detail', s.detail) END)
           FROM delivered_first_attempts s
           LEFT JOIN events e ON e.tenant_id = s.tenant_id AND e.id = s.event_id
         UNION ALL
         SELECT f.tenant_id, (x->>'id')::uuid, (x->>'destination_id')::uuid, (f.payload->>'event_id')::uuid, f.payload->>'body',
                CASE f.state WHEN 'running' THEN 'running' ELSE 'queued' END, 0, \(DestinationDeliveryPayload.maxAttempts),
                f.run_at, NULL::text, f.created_at, NULL::timestamptz, f.updated_at, '[]'::jsonb
           FROM jobs f CROSS JOIN LATERAL jsonb_array_elements(f.payload->'deliveries') x
          WHERE f.kind = '\(DestinationFanOutPayload.kind)' AND f.state IN ('queued', 'running', 'failed')
            AND NOT EXISTS (SELECT 1 FROM jobs w WHERE w.tenant_id = f.tenant_id AND w.id = (x->>'id')::uuid)
            AND NOT EXISTS (SELECT 1 FROM delivered_first_attempts w WHERE w.tenant_id = f.tenant_id AND w.id = (x->>'id')::uuid)
            AND EXISTS (SELECT 1 FROM destinations w WHERE w.tenant_id = f.tenant_id AND w.id = (x->>'destination_id')::uuid)) j
        """

    /// Columns of `source j` joined to `destinations d`. A disabled destination's deliveries wait with a due time far
    /// away (or `infinity`) until it is enabled, which makes them due at once: they show no due time meanwhile.
    static let columns = """
        j.id, j.destination_id, j.event_id, coalesce(j.body::jsonb->>'type', '') AS event_type, j.state, j.attempts,
        j.max_attempts, CASE WHEN j.state IN ('queued', 'failed') AND coalesce(d.enabled, true) AND isfinite(j.run_at) THEN j.run_at END
        AS next_attempt_at, j.last_error, j.created_at, j.finished_at, j.updated_at
        """
    static let detailColumns = columns + ", j.body, j.history::text AS history"

    init(row: PostgresRow, detailed: Bool) throws {
        let row = NamedRow(row, table: "jobs")
        id = try row("id")
        destinationID = try row("destination_id")
        eventID = try row("event_id")
        eventType = try row("event_type")
        state = try row.value("state")
        attempts = try row("attempts")
        maxAttempts = try row("max_attempts")
        nextAttemptAt = try row("next_attempt_at")
        lastError = try row("last_error")
        createdAt = try row("created_at")
        finishedAt = try row("finished_at")
        updatedAt = try row("updated_at")
        body = detailed ? try row("body", as: String.self) : nil
        history = detailed ? try row.json("history") : nil
    }
}

/// Which deliveries a list shows; every field narrows it.
public struct DeliveryFilter: Sendable {
    public var destinationID: UUID?
    public var eventID: UUID?
    public var state: JobState?
    public var createdAfter: Date?
    public var createdBefore: Date?

    public init(destinationID: UUID? = nil, eventID: UUID? = nil, state: JobState? = nil, createdAfter: Date? = nil, createdBefore: Date? = nil) {
        self.destinationID = destinationID
        self.eventID = eventID
        self.state = state
        self.createdAfter = createdAfter
        self.createdBefore = createdBefore
    }
}

/// What a replay queued.
public struct DeliveryReplay: Sendable, Equatable {
    public let enqueued: Int
    /// More events matched than the call's cap.
    public let capped: Bool
    /// The time of the last event queued: where a capped replay goes on from.
    public let lastEventAt: Date?
}

extension TenantTransaction {
    /// The tenant's deliveries, newest first.
    public func deliveries(_ filter: DeliveryFilter, page: PageRequest) async throws -> Page<DeliveryRecord> {
        let after = page.cursor?.lastID
        let state = filter.state?.rawValue
        let rows = try await query(
            """
            SELECT \(unescaped: DeliveryRecord.columns)
              FROM \(unescaped: DeliveryRecord.source) LEFT JOIN destinations d ON d.tenant_id = j.tenant_id AND d.id = j.destination_id
             WHERE j.tenant_id = \(tenantID.rawValue)
               AND (\(after)::uuid IS NULL OR j.id < \(after))
               AND (\(filter.destinationID)::uuid IS NULL OR j.destination_id = \(filter.destinationID))
               AND (\(filter.eventID)::uuid IS NULL OR j.event_id = \(filter.eventID))
               AND (\(state)::text IS NULL OR j.state = \(state))
               AND (\(filter.createdAfter)::timestamptz IS NULL OR j.created_at >= \(filter.createdAfter))
               AND (\(filter.createdBefore)::timestamptz IS NULL OR j.created_at < \(filter.createdBefore))
             ORDER BY j.id DESC LIMIT \(page.limit + 1)
            """
        ).collect()
        return Page(fetched: try rows.map { try DeliveryRecord(row: $0, detailed: false) }, limit: page.limit, id: \.id)
    }

    /// One delivery with its body and attempts.
    public func delivery(_ id: UUID) async throws -> DeliveryRecord? {
        try await query(
            """
            SELECT \(unescaped: DeliveryRecord.detailColumns)
              FROM \(unescaped: DeliveryRecord.source) LEFT JOIN destinations d ON d.tenant_id = j.tenant_id AND d.id = j.destination_id
             WHERE j.tenant_id = \(tenantID.rawValue) AND j.id = \(id)
            """
        ).collect().first.map { try DeliveryRecord(row: $0, detailed: true) }
    }

    /// Queues a delivery of a synthetic `destination.test` event to one destination, without recording the event.
    /// Nil when there is no such destination.
    public func enqueueTestDelivery(to destinationID: UUID) async throws -> DeliveryRecord? {
        let id = try await query(
            """
            INSERT INTO jobs (tenant_id, id, kind, payload, max_attempts, destination_id, event_id, ordering_key, ordering_seq)
            SELECT d.tenant_id, app_uuid_v7(), \(DestinationDeliveryPayload.kind),
                   jsonb_build_object('destination_id', d.id, 'event_id', e.id,
                                      'body', app_event_body(e.id, 'destination.test', NULL, jsonb_build_object('destination_id', d.id), now())),
                   \(DestinationDeliveryPayload.maxAttempts), d.id, e.id,
                   CASE WHEN d.ordered THEN d.id::text || '/' || CASE d.ordering_key WHEN 'event_type' THEN 'destination.test' ELSE '' END END,
                   CASE WHEN d.ordered THEN nextval('jobs_ordering_seq') END
              FROM destinations d CROSS JOIN (SELECT app_uuid_v7() AS id) e
             WHERE d.tenant_id = \(tenantID.rawValue) AND d.id = \(destinationID)
            RETURNING id
            """
        ).decode(UUID.self).collect().first
        guard let id else { return nil }
        return try await delivery(id)
    }

    /// Queues a new delivery of a delivery's event to its destination, with the same body (so the same `webhook-id`).
    /// Nil when the destination no longer exists.
    public func resendDelivery(_ id: UUID) async throws -> DeliveryRecord? {
        let newID = try await query(
            """
            INSERT INTO jobs (tenant_id, id, kind, payload, max_attempts, destination_id, event_id, ordering_key, ordering_seq)
            SELECT o.tenant_id, app_uuid_v7(), o.kind, o.payload, \(DestinationDeliveryPayload.maxAttempts), o.destination_id, o.event_id,
                   CASE WHEN o.ordered THEN o.destination_id::text || '/' || coalesce(o.key, '') END,
                   CASE WHEN o.ordered THEN nextval('jobs_ordering_seq') END
              FROM (SELECT j.tenant_id, \(DestinationDeliveryPayload.kind) AS kind,
                           jsonb_build_object('destination_id', j.destination_id, 'event_id', j.event_id, 'body', j.body) AS payload,
                           j.destination_id, j.event_id, d.ordered,
                           CASE d.ordering_key WHEN 'event_type' THEN j.body::jsonb->>'type' ELSE j.body::jsonb->>'integration_id' END AS key
                      FROM \(unescaped: DeliveryRecord.source) JOIN destinations d ON d.tenant_id = j.tenant_id AND d.id = j.destination_id
                     WHERE j.tenant_id = \(tenantID.rawValue) AND j.id = \(id)) o
            RETURNING id
            """
        ).decode(UUID.self).collect().first
        guard let newID else { return nil }
        return try await delivery(newID)
    }

    /// Queues, in one statement, a delivery to one destination of every recorded event from `since` (inclusive) to
    /// `until` (exclusive) that matches its filter now, oldest first, at most `limit`. Each has the body the fan-out
    /// would have made (`app_event_body`), so the same `webhook-id` as the event's other deliveries.
    public func replayEvents(to destinationID: UUID, since: Date, until: Date?, limit: Int) async throws -> DeliveryReplay {
        let rows = try await query(
            """
            WITH matched AS (
                SELECT e.id, e.type, e.integration_id, e.data, e.created_at
                  FROM events e
                  JOIN destinations d ON d.tenant_id = e.tenant_id AND d.id = \(destinationID)
                  LEFT JOIN integrations i ON i.tenant_id = e.tenant_id AND i.id = e.integration_id
                 WHERE e.tenant_id = \(tenantID.rawValue) AND e.created_at >= \(since)
                   AND (\(until)::timestamptz IS NULL OR e.created_at < \(until))
                   AND app_destination_matches(d, e.type, e.integration_id, i.provider)
                 ORDER BY e.created_at, e.id
                 LIMIT \(limit + 1)
            ), picked AS (
                SELECT * FROM matched ORDER BY created_at, id LIMIT \(limit)
            ), inserted AS (
                INSERT INTO jobs (tenant_id, id, kind, payload, max_attempts, destination_id, event_id, ordering_key, ordering_seq)
                SELECT m.tenant_id, app_uuid_v7(), \(DestinationDeliveryPayload.kind),
                       jsonb_build_object('destination_id', m.destination_id, 'event_id', m.event_id, 'body', m.body),
                       \(DestinationDeliveryPayload.maxAttempts), m.destination_id, m.event_id,
                       CASE WHEN m.ordered THEN m.destination_id::text || '/' || coalesce(m.key, '') END,
                       CASE WHEN m.ordered THEN nextval('jobs_ordering_seq') END
                  FROM (SELECT d.tenant_id, d.id AS destination_id, p.id AS event_id, d.ordered,
                               app_event_body(p.id, p.type, p.integration_id, p.data, p.created_at) AS body,
                               CASE d.ordering_key WHEN 'event_type' THEN p.type ELSE p.integration_id::text END AS key
                          FROM picked p
                          JOIN destinations d ON d.tenant_id = \(tenantID.rawValue) AND d.id = \(destinationID)
                         ORDER BY p.created_at, p.id) m
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM inserted)::int, (SELECT count(*) FROM matched) > \(limit), (SELECT max(created_at) FROM picked)
            """
        ).decode((Int, Bool, Date?).self).collect()
        guard let (enqueued, capped, last) = rows.first else { throw SwitchyardError.internal("the replay statement returned no row") }
        return DeliveryReplay(enqueued: enqueued, capped: capped, lastEventAt: last)
    }
}
