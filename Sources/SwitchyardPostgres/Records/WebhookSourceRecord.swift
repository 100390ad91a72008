import Foundation
import NIOCore
import PostgresNIO
import SwitchyardCore

/// A row of `webhook_sources`. `scheme` is the signature scheme's JSON (SwitchyardWebhooks decodes it).
public struct WebhookSourceRecord: Sendable, Equatable {
    public let tenantID: TenantID
    public let id: UUID
    public let name: String
    public let scheme: String
    public let integrationID: UUID?
    public let maxBodyBytes: Int
    public let createdAt: Date
    public let updatedAt: Date

    static let columns = "tenant_id, id, name, scheme::text, integration_id, max_body_bytes, created_at, updated_at"
    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "webhook_sources")
        self.init(
            tenantID: TenantID(try row("tenant_id")),
            id: try row("id"),
            name: try row("name"),
            scheme: try row("scheme"),
            integrationID: try row("integration_id"),
            maxBodyBytes: try row("max_body_bytes"),
            createdAt: try row("created_at"),
            updatedAt: try row("updated_at")
        )
    }

    public init(tenantID: TenantID, id: UUID, name: String, scheme: String, integrationID: UUID?, maxBodyBytes: Int, createdAt: Date, updatedAt: Date)
    {
        self.tenantID = tenantID
        self.id = id
        self.name = name
        self.scheme = scheme
        self.integrationID = integrationID
        self.maxBodyBytes = maxBodyBytes
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A secret of a source, as lists show it: never its value.
public struct WebhookSecretRecord: Sendable, Equatable {
    public let id: UUID
    public let expiresAt: Date?
    public let createdAt: Date
}

extension TenantTransaction {
    public func createWebhookSource(name: String, scheme: String, integrationID: UUID?, maxBodyBytes: Int) async throws -> WebhookSourceRecord {
        let rows = try await query(
            """
            INSERT INTO webhook_sources (tenant_id, id, name, scheme, integration_id, max_body_bytes)
            VALUES (\(tenantID.rawValue), \(UUID()), \(name), \(scheme)::jsonb, \(integrationID), \(maxBodyBytes))
            RETURNING \(unescaped: WebhookSourceRecord.columns)
            """
        ).collect()
        return try WebhookSourceRecord(row: rows[0])
    }

    public func webhookSource(_ id: UUID) async throws -> WebhookSourceRecord? {
        try await query(
            "SELECT \(unescaped: WebhookSourceRecord.columns) FROM webhook_sources WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)"
        ).collect().first.map(WebhookSourceRecord.init(row:))
    }

    public func webhookSources(_ page: PageRequest) async throws -> Page<WebhookSourceRecord> {
        let rows = try await query(
            """
            SELECT \(unescaped: WebhookSourceRecord.columns) FROM webhook_sources
             WHERE tenant_id = \(tenantID.rawValue) AND (\(page.cursor?.lastID)::uuid IS NULL OR id > \(page.cursor?.lastID)) ORDER BY id LIMIT \(page.limit + 1)
            """
        ).collect()
        return Page(fetched: try rows.map(WebhookSourceRecord.init(row:)), limit: page.limit, id: \.id)
    }

    public func updateWebhookSource(
        _ id: UUID,
        name: String?,
        scheme: String?,
        integrationID: UUID??,
        maxBodyBytes: Int?
    ) async throws -> WebhookSourceRecord? {
        let setIntegration = integrationID != nil
        return try await query(
            """
            UPDATE webhook_sources
               SET name = coalesce(\(name), name), scheme = coalesce(\(scheme)::jsonb, scheme),
                   integration_id = CASE WHEN \(setIntegration) THEN \(integrationID ?? nil) ELSE integration_id END,
                   max_body_bytes = coalesce(\(maxBodyBytes), max_body_bytes), updated_at = now()
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
            RETURNING \(unescaped: WebhookSourceRecord.columns)
            """
        ).collect().first.map(WebhookSourceRecord.init(row:))
    }

    public func deleteWebhookSource(_ id: UUID) async throws -> Bool {
        try await query("DELETE FROM webhook_sources WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) RETURNING id")
            .decode(UUID.self).collect().isEmpty == false
    }

    /// Seals and adds a secret to source `sourceID`.
    public func addWebhookSecret(_ secret: String, to sourceID: UUID, expiresAt: Date?) async throws -> WebhookSecretRecord {
        let id = UUID.v7()
        let sealed = try await seal(Array(secret.utf8), field: .webhookSourceSecret, row: id)
        let rows = try await query(
            """
            INSERT INTO webhook_source_secrets (tenant_id, source_id, id, secret, dek_id, expires_at)
            VALUES (\(tenantID.rawValue), \(sourceID), \(id), \(ByteBuffer(bytes: sealed.bytes)), \(sealed.dataKeyID), \(expiresAt))
            RETURNING id, expires_at, created_at
            """
        ).decode((UUID, Date?, Date).self).collect()
        return WebhookSecretRecord(id: rows[0].0, expiresAt: rows[0].1, createdAt: rows[0].2)
    }

    public func webhookSecrets(of sourceID: UUID) async throws -> [WebhookSecretRecord] {
        try await query(
            "SELECT id, expires_at, created_at FROM webhook_source_secrets WHERE tenant_id = \(tenantID.rawValue) AND source_id = \(sourceID) ORDER BY id"
        ).decode((UUID, Date?, Date).self).collect().map { WebhookSecretRecord(id: $0.0, expiresAt: $0.1, createdAt: $0.2) }
    }

    /// Sets when a secret stops working (now or later, for a rotation's grace period); nil when there is no such secret.
    public func expireWebhookSecret(_ id: UUID, of sourceID: UUID, at expiresAt: Date) async throws -> WebhookSecretRecord? {
        try await query(
            """
            UPDATE webhook_source_secrets SET expires_at = \(expiresAt)
             WHERE tenant_id = \(tenantID.rawValue) AND source_id = \(sourceID) AND id = \(id)
            RETURNING id, expires_at, created_at
            """
        ).decode((UUID, Date?, Date).self).collect().first.map { WebhookSecretRecord(id: $0.0, expiresAt: $0.1, createdAt: $0.2) }
    }

    /// Makes every other unexpired secret of the source stop working at `expiresAt` (a rotation's grace period).
    public func expireOtherWebhookSecrets(of sourceID: UUID, keeping id: UUID, at expiresAt: Date) async throws {
        try await query(
            """
            UPDATE webhook_source_secrets SET expires_at = \(expiresAt)
             WHERE tenant_id = \(tenantID.rawValue) AND source_id = \(sourceID) AND id <> \(id)
               AND (expires_at IS NULL OR expires_at > \(expiresAt))
            """
        )
    }

    /// The opened values of the source's secrets that have not expired.
    public func activeWebhookSecrets(of sourceID: UUID) async throws -> [WebhookSigningSecret] {
        let rows = try await query(
            """
            SELECT id, secret, expires_at FROM webhook_source_secrets
             WHERE tenant_id = \(tenantID.rawValue) AND source_id = \(sourceID) AND (expires_at IS NULL OR expires_at > now())
            """
        ).decode((UUID, ByteBuffer, Date?).self).collect()
        var secrets: [WebhookSigningSecret] = []
        for (id, sealed, expiresAt) in rows {
            let value = String(decoding: try await open(sealed.readableBytesView, field: .webhookSourceSecret, row: id), as: UTF8.self)
            secrets.append(WebhookSigningSecret(value: value, expiresAt: expiresAt))
        }
        return secrets
    }
}

/// An opened secret of a webhook source and the end of its grace period, if it has one.
public struct WebhookSigningSecret: Sendable {
    public let value: String
    public let expiresAt: Date?

    /// Whether it may still verify a delivery at `now`: checked at every delivery, not when the secret was loaded,
    /// so a cached copy stops working the moment its grace period ends.
    public func isUsable(at now: Date) -> Bool {
        expiresAt.map { $0 > now } ?? true
    }
}

extension OperatorTransaction {
    /// The source behind an ingest URL, whatever its tenant.
    public func webhookSourceForIngest(_ id: UUID) async throws -> WebhookSourceRecord? {
        try await query(
            "SELECT \(unescaped: WebhookSourceRecord.columns) FROM webhook_sources WHERE id = \(id)"
        ).collect().first.map(WebhookSourceRecord.init(row:))
    }
}
