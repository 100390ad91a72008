import Foundation
import NIOCore
import PostgresNIO
import SwitchyardCore

/// A row of `destinations`, as the API shows it: the custom headers' names, never their values.
public struct DestinationRecord: Sendable, Equatable {
    public let id: UUID
    public let url: String
    public let description: String
    public let headerNames: [String]
    public let filter: DestinationFilter
    public let ordered: Bool
    public let orderingKey: DestinationOrderingKey
    public let rateLimitPerSecond: Int?
    public let maxConcurrency: Int?
    public let enabled: Bool
    public let disabledReason: String?
    public let disabledAt: Date?
    public let failingSince: Date?
    public let createdAt: Date
    public let updatedAt: Date

    static let columns = """
        id, url, description, header_names, event_types, integration_ids, providers, ordered, ordering_key,
        rate_limit_per_second, max_concurrency, enabled, disabled_reason, disabled_at, failing_since, created_at, updated_at
        """

    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "destinations")
        id = try row("id")
        url = try row("url")
        description = try row("description")
        headerNames = try row("header_names")
        filter = DestinationFilter(eventTypes: try row("event_types"), integrationIDs: try row("integration_ids"), providers: try row("providers"))
        ordered = try row("ordered")
        orderingKey = DestinationOrderingKey(rawValue: try row("ordering_key")) ?? .integrationID
        rateLimitPerSecond = try row("rate_limit_per_second")
        maxConcurrency = try row("max_concurrency")
        enabled = try row("enabled")
        disabledReason = try row("disabled_reason")
        disabledAt = try row("disabled_at")
        failingSince = try row("failing_since")
        createdAt = try row("created_at")
        updatedAt = try row("updated_at")
    }
}

/// Which events a destination hears; an empty list matches everything.
public struct DestinationFilter: Sendable, Equatable {
    /// Exact types (`integration.connected`), `prefix.*` wildcards, or `*`.
    public var eventTypes: [String]
    public var integrationIDs: [UUID]
    public var providers: [String]

    public init(eventTypes: [String] = [], integrationIDs: [UUID] = [], providers: [String] = []) {
        self.eventTypes = eventTypes
        self.integrationIDs = integrationIDs
        self.providers = providers
    }
}

/// What an ordered destination keeps in order: the deliveries of one integration, or of one event type.
public enum DestinationOrderingKey: String, Sendable, CaseIterable {
    case integrationID = "integration_id"
    case eventType = "event_type"
}

/// A destination's settings as the API writes them (create, or the whole of an update).
public struct DestinationSettings: Sendable, Equatable {
    public var url: String
    public var description: String
    /// Sent with every delivery; sealed, since they often carry the receiver's own credential.
    public var headers: [String: String]
    public var filter: DestinationFilter
    public var ordered: Bool
    public var orderingKey: DestinationOrderingKey
    public var rateLimitPerSecond: Int?
    public var maxConcurrency: Int?

    public init(
        url: String,
        description: String = "",
        headers: [String: String] = [:],
        filter: DestinationFilter = DestinationFilter(),
        ordered: Bool = false,
        orderingKey: DestinationOrderingKey = .integrationID,
        rateLimitPerSecond: Int? = nil,
        maxConcurrency: Int? = nil
    ) {
        self.url = url
        self.description = description
        self.headers = headers
        self.filter = filter
        self.ordered = ordered
        self.orderingKey = orderingKey
        self.rateLimitPerSecond = rateLimitPerSecond
        self.maxConcurrency = maxConcurrency
    }
}

/// A signing secret of a destination, as lists show it: never its value.
public struct DestinationSecretRecord: Sendable, Equatable {
    public let id: UUID
    public let expiresAt: Date?
    public let createdAt: Date
}

/// What a delivery needs of its destination, opened: the executor caches it briefly.
public struct DestinationTarget: Sendable {
    public let tenantID: TenantID
    public let id: UUID
    public let url: String
    public let headers: [String: String]
    public let enabled: Bool
    public let failingSince: Date?
    public let rateLimitPerSecond: Int?
    public let maxConcurrency: Int?
    /// Unexpired secrets, newest first: a delivery is signed with each.
    public let secrets: [DestinationSigningSecret]
}

/// An opened `whsec_` secret and the end of its grace period, if it has one.
public struct DestinationSigningSecret: Sendable {
    public let value: String
    public let expiresAt: Date?

    public init(value: String, expiresAt: Date?) {
        self.value = value
        self.expiresAt = expiresAt
    }

    /// Checked at every attempt, so a cached copy stops signing the moment its grace period ends.
    public func isUsable(at now: Date) -> Bool {
        expiresAt.map { $0 > now } ?? true
    }
}

extension TenantTransaction {
    /// Creates a destination with its first signing secret (`secret`, already generated by the caller).
    public func createDestination(_ settings: DestinationSettings, secret: String) async throws -> DestinationRecord {
        let id = UUID.v7()
        let headers = try await sealHeaders(settings.headers, of: id)
        let record = try await query(
            """
            INSERT INTO destinations (tenant_id, id, url, description, headers, headers_dek_id, header_names, event_types, integration_ids,
                                      providers, ordered, ordering_key, rate_limit_per_second, max_concurrency)
            VALUES (\(tenantID.rawValue), \(id), \(settings.url), \(settings.description), \(headers.bytes), \(headers.dataKeyID),
                    \(settings.headers.keys.sorted()), \(settings.filter.eventTypes), \(settings.filter.integrationIDs), \(settings.filter.providers),
                    \(settings.ordered), \(settings.orderingKey.rawValue), \(settings.rateLimitPerSecond), \(settings.maxConcurrency))
            RETURNING \(unescaped: DestinationRecord.columns)
            """
        ).collect().map(DestinationRecord.init(row:))[0]
        _ = try await addDestinationSecret(secret, to: id, expiresAt: nil)
        return record
    }

    public func destination(_ id: UUID) async throws -> DestinationRecord? {
        try await query(
            "SELECT \(unescaped: DestinationRecord.columns) FROM destinations WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)"
        ).collect().first.map(DestinationRecord.init(row:))
    }

    public func destinations(_ page: PageRequest) async throws -> Page<DestinationRecord> {
        let after = page.cursor?.lastID
        let rows = try await query(
            """
            SELECT \(unescaped: DestinationRecord.columns) FROM destinations
             WHERE tenant_id = \(tenantID.rawValue) AND (\(after)::uuid IS NULL OR id > \(after))
             ORDER BY id LIMIT \(page.limit + 1)
            """
        ).collect().map(DestinationRecord.init(row:))
        return Page(fetched: rows, limit: page.limit, id: \.id)
    }

    /// Replaces a destination's settings; `headers` nil keeps the stored ones. Nil when there is no such destination.
    public func updateDestination(_ id: UUID, _ settings: DestinationSettings, replacingHeaders: Bool) async throws -> DestinationRecord? {
        let headers = replacingHeaders ? try await sealHeaders(settings.headers, of: id) : nil
        return try await query(
            """
            UPDATE destinations
               SET url = \(settings.url), description = \(settings.description),
                   headers = coalesce(\(headers?.bytes), headers),
                   headers_dek_id = coalesce(\(headers?.dataKeyID), headers_dek_id),
                   header_names = CASE WHEN \(replacingHeaders) THEN \(settings.headers.keys.sorted()) ELSE header_names END,
                   event_types = \(settings.filter.eventTypes), integration_ids = \(settings.filter.integrationIDs),
                   providers = \(settings.filter.providers), ordered = \(settings.ordered), ordering_key = \(settings.orderingKey.rawValue),
                   rate_limit_per_second = \(settings.rateLimitPerSecond), max_concurrency = \(settings.maxConcurrency), updated_at = now()
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
            RETURNING \(unescaped: DestinationRecord.columns)
            """
        ).collect().first.map(DestinationRecord.init(row:))
    }

    /// Deletes a destination and the deliveries still waiting for it (finished ones stay as history until pruned).
    public func deleteDestination(_ id: UUID) async throws -> Bool {
        try await query(
            """
            UPDATE jobs SET state = 'cancelled', finished_at = now(), updated_at = now(), last_error = 'the destination was deleted'
             WHERE tenant_id = \(tenantID.rawValue) AND destination_id = \(id) AND state IN ('queued', 'failed')
            """
        )
        return try await query("DELETE FROM destinations WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) RETURNING id")
            .decode(UUID.self).collect().isEmpty == false
    }

    /// Disables a destination (by its owner, or after a 410 or days of failures) and records `destination.disabled`.
    /// Its waiting deliveries stay queued, parked until it is enabled again. Nil when there is no such destination;
    /// an already disabled one is returned unchanged, with no second event.
    public func disableDestination(_ id: UUID, reason: String) async throws -> DestinationRecord? {
        let changed = try await query(
            """
            UPDATE destinations SET enabled = false, disabled_reason = \(reason), disabled_at = now(), updated_at = now()
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) AND enabled
            RETURNING \(unescaped: DestinationRecord.columns)
            """
        ).collect().first.map(DestinationRecord.init(row:))
        guard let changed else { return try await destination(id) }
        try await parkDeliveries(of: id, until: nil)
        try await recordEvent("destination.disabled", integrationID: nil, data: ["destination_id": id.lowercasedString, "reason": reason])
        return changed
    }

    /// Enables a destination: its parked deliveries become due now, and its failure streak starts over.
    public func enableDestination(_ id: UUID) async throws -> DestinationRecord? {
        let record = try await query(
            """
            UPDATE destinations SET enabled = true, disabled_reason = NULL, disabled_at = NULL, failing_since = NULL, updated_at = now()
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
            RETURNING \(unescaped: DestinationRecord.columns)
            """
        ).collect().first.map(DestinationRecord.init(row:))
        if record != nil {
            try await query(
                """
                UPDATE jobs SET run_at = now(), updated_at = now()
                 WHERE tenant_id = \(tenantID.rawValue) AND destination_id = \(id) AND state IN ('queued', 'failed') AND run_at > now()
                """
            )
        }
        return record
    }

    /// Moves the waiting deliveries of a destination out of the claim's way: until `until`, or indefinitely (nil, a
    /// disabled destination) until it is enabled again. Their attempts are untouched.
    public func parkDeliveries(of destinationID: UUID, until: Date?) async throws {
        try await query(
            """
            UPDATE jobs SET run_at = coalesce(\(until), 'infinity'::timestamptz), updated_at = now()
             WHERE tenant_id = \(tenantID.rawValue) AND destination_id = \(destinationID) AND state IN ('queued', 'failed')
               AND run_at < coalesce(\(until), 'infinity'::timestamptz)
            """
        )
    }

    /// Notes a failed attempt: starts the destination's failure streak if none is running, and returns when it began.
    public func noteDestinationFailure(_ id: UUID) async throws -> Date? {
        try await query(
            """
            UPDATE destinations SET failing_since = coalesce(failing_since, now())
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
            RETURNING failing_since
            """
        ).decode(Date.self).collect().first
    }

    /// Ends a destination's failure streak (a delivery succeeded).
    public func noteDestinationSuccess(_ id: UUID) async throws {
        try await query(
            "UPDATE destinations SET failing_since = NULL WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) AND failing_since IS NOT NULL"
        )
    }

    // MARK: Secrets

    /// Seals and adds a signing secret to a destination.
    public func addDestinationSecret(_ secret: String, to destinationID: UUID, expiresAt: Date?) async throws -> DestinationSecretRecord {
        let id = UUID.v7()
        let sealed = try await seal(Array(secret.utf8), field: .destinationSecret, row: id)
        let rows = try await query(
            """
            INSERT INTO destination_secrets (tenant_id, destination_id, id, secret, dek_id, expires_at)
            VALUES (\(tenantID.rawValue), \(destinationID), \(id), \(ByteBuffer(bytes: sealed.bytes)), \(sealed.dataKeyID), \(expiresAt))
            RETURNING id, expires_at, created_at
            """
        ).decode((UUID, Date?, Date).self).collect()
        return DestinationSecretRecord(id: rows[0].0, expiresAt: rows[0].1, createdAt: rows[0].2)
    }

    /// Rotation: every other unexpired secret of the destination stops signing at `expiresAt` (the grace period).
    public func expireOtherDestinationSecrets(of destinationID: UUID, keeping id: UUID, at expiresAt: Date) async throws {
        try await query(
            """
            UPDATE destination_secrets SET expires_at = \(expiresAt)
             WHERE tenant_id = \(tenantID.rawValue) AND destination_id = \(destinationID) AND id <> \(id)
               AND (expires_at IS NULL OR expires_at > \(expiresAt))
            """
        )
    }

    public func destinationSecrets(of destinationID: UUID) async throws -> [DestinationSecretRecord] {
        try await query(
            """
            SELECT id, expires_at, created_at FROM destination_secrets
             WHERE tenant_id = \(tenantID.rawValue) AND destination_id = \(destinationID) AND (expires_at IS NULL OR expires_at > now())
             ORDER BY id DESC
            """
        ).decode((UUID, Date?, Date).self).collect().map { DestinationSecretRecord(id: $0.0, expiresAt: $0.1, createdAt: $0.2) }
    }

    /// What a delivery needs of the destination, with its headers and unexpired secrets opened.
    public func destinationTarget(_ id: UUID) async throws -> DestinationTarget? {
        let rows = try await query(
            """
            SELECT url, headers, enabled, failing_since, rate_limit_per_second, max_concurrency FROM destinations
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
            """
        ).collect()
        guard let first = rows.first else { return nil }
        let row = NamedRow(first, table: "destinations")
        let sealedHeaders: ByteBuffer = try row("headers")
        let headers = try JSONDecoder().decode(
            [String: String].self,
            from: Data(try await open(sealedHeaders.readableBytesView, field: .destinationHeaders, row: id))
        )
        let secretRows = try await query(
            """
            SELECT id, secret, expires_at FROM destination_secrets
             WHERE tenant_id = \(tenantID.rawValue) AND destination_id = \(id) AND (expires_at IS NULL OR expires_at > now())
             ORDER BY id DESC
            """
        ).decode((UUID, ByteBuffer, Date?).self).collect()
        var secrets: [DestinationSigningSecret] = []
        for (secretID, sealed, expiresAt) in secretRows {
            let value = String(decoding: try await open(sealed.readableBytesView, field: .destinationSecret, row: secretID), as: UTF8.self)
            secrets.append(DestinationSigningSecret(value: value, expiresAt: expiresAt))
        }
        return DestinationTarget(
            tenantID: tenantID,
            id: id,
            url: try row("url"),
            headers: headers,
            enabled: try row("enabled"),
            failingSince: try row("failing_since"),
            rateLimitPerSecond: try row("rate_limit_per_second"),
            maxConcurrency: try row("max_concurrency"),
            secrets: secrets
        )
    }

    private func sealHeaders(_ headers: [String: String], of id: UUID) async throws -> (bytes: ByteBuffer, dataKeyID: UUID) {
        let sealed = try await seal(Array(try JSONText.encode(headers).utf8), field: .destinationHeaders, row: id)
        return (ByteBuffer(bytes: sealed.bytes), sealed.dataKeyID)
    }
}
