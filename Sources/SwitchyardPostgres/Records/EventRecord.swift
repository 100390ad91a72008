import Foundation
import PostgresNIO
import SwitchyardCore

/// A row of `events`: something that happened to a tenant's integrations, for the tenant and its workflows.
public struct EventRecord: Sendable, Equatable {
    public let id: UUID
    public let type: String
    public let integrationID: UUID?
    public let data: [String: JSONValue]
    public let createdAt: Date
}

extension TenantTransaction {
    /// Records an event in the caller's transaction, so it exists exactly when the change it reports does (its
    /// deliveries to the tenant's destinations too: see the fan-out trigger of migration 0023). Returns its id.
    @discardableResult
    public func recordEvent(_ type: String, integrationID: UUID?, data: [String: String] = [:]) async throws -> UUID {
        try await recordEvent(type, integrationID: integrationID, json: data.mapValues(JSONValue.string))
    }

    /// Records an event whose data holds any JSON (a webhook's payload).
    @discardableResult
    public func recordEvent(_ type: String, integrationID: UUID?, json data: [String: JSONValue]) async throws -> UUID {
        let id = UUID.v7()
        try await query(
            """
            INSERT INTO events (tenant_id, id, type, integration_id, data)
            VALUES (\(tenantID.rawValue), \(id), \(type), \(integrationID), \(try JSONText.encode(data))::jsonb)
            """
        )
        return id
    }

    /// Events, oldest first, optionally of one type or one integration.
    public func events(type: String?, integrationID: UUID?, page: PageRequest) async throws -> Page<EventRecord> {
        let after = page.cursor?.lastID
        let rows = try await query(
            """
            SELECT id, type, integration_id, data::text, created_at FROM events
             WHERE tenant_id = \(tenantID.rawValue)
               AND (\(after)::uuid IS NULL OR id > \(after))
               AND (\(type)::text IS NULL OR type = \(type))
               AND (\(integrationID)::uuid IS NULL OR integration_id = \(integrationID))
             ORDER BY id LIMIT \(page.limit + 1)
            """
        ).collect()
        let events = try rows.map { result in
            let row = NamedRow(result, table: "events")
            return EventRecord(
                id: try row("id"),
                type: try row("type"),
                integrationID: try row("integration_id"),
                data: try row.json("data"),
                createdAt: try row("created_at")
            )
        }
        return Page(fetched: events, limit: page.limit, id: \.id)
    }

    /// How many events were recorded per hour (UTC) since `since`; hours without events are left out.
    public func eventCountsByHour(since: Date) async throws -> [(hour: Date, count: Int64)] {
        // Ids are version 7 UUIDs: the range by id is a range by time that the primary key serves.
        try await query(
            """
            SELECT date_trunc('hour', created_at, 'UTC') AS hour, count(*)::int8 AS count FROM events
             WHERE tenant_id = \(tenantID.rawValue) AND id >= \(UUID.v7Floor(at: since)) AND created_at >= \(since)
             GROUP BY 1 ORDER BY 1
            """
        ).decode((Date, Int64).self).collect().map { (hour: $0.0, count: $0.1) }
    }
}
