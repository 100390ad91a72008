import Foundation
import PostgresNIO
import SwitchyardCore

/// One entry of the audit log: who did what to which resource, and in which request.
public struct AuditEventRecord: Sendable, Equatable {
    public let id: UUID
    public let actor: String
    public let action: String
    public let resourceType: String
    public let resourceID: String?
    public let requestID: String?
    public let details: [String: String]
    public let createdAt: Date

    static let columns = "id, actor, action, resource_type, resource_id, request_id, details::text, created_at"
    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "audit_events")
        id = try row("id")
        actor = try row("actor")
        action = try row("action")
        resourceType = try row("resource_type")
        resourceID = try row("resource_id")
        requestID = try row("request_id")
        details = try row.json("details")
        createdAt = try row("created_at")
    }
}

/// An event to record. `actor` is an API key's display prefix or `operator`; never a secret.
public struct NewAuditEvent: Sendable {
    public var actor: String
    public var action: String
    public var resourceType: String
    public var resourceID: String?
    public var requestID: String?
    public var details: [String: String]

    public init(actor: String, action: String, resourceType: String, resourceID: String?, requestID: String?, details: [String: String] = [:]) {
        self.actor = actor
        self.action = action
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.requestID = requestID
        self.details = details
    }

    /// `details` as the JSON object the `details` column keeps.
    var detailsJSON: String {
        String(decoding: JSONValue.object(details.mapValues(JSONValue.string)).serialized(), as: UTF8.self)
    }
}

extension PostgresConnection {
    /// Into the tenant's audit log, or the platform's (`platform_audit_events`, the operator's own) when `tenant` is nil.
    fileprivate func insertAudit(_ event: NewAuditEvent, tenant: UUID?, logger: Logger) async throws {
        let details = event.detailsJSON
        if let tenant {
            try await query(
                """
                INSERT INTO audit_events (tenant_id, id, actor, action, resource_type, resource_id, request_id, details)
                VALUES (\(tenant), \(UUID.v7()), \(event.actor), \(event.action), \(event.resourceType), \(event.resourceID), \(event.requestID), \(details)::jsonb)
                """,
                logger: logger
            )
        } else {
            try await query(
                """
                INSERT INTO platform_audit_events (id, actor, action, resource_type, resource_id, request_id, details)
                VALUES (\(UUID.v7()), \(event.actor), \(event.action), \(event.resourceType), \(event.resourceID), \(event.requestID), \(details)::jsonb)
                """,
                logger: logger
            )
        }
    }
}

extension TenantTransaction {
    /// Records an event in the tenant's audit log, in this transaction (it commits with what it describes).
    public func recordAudit(_ event: NewAuditEvent) async throws {
        try await connection.insertAudit(event, tenant: tenantID.rawValue, logger: logger)
    }

    /// The tenant's audit log, newest first.
    public func auditEvents(_ page: PageRequest) async throws -> Page<AuditEventRecord> {
        let rows = try await query(
            """
            SELECT \(unescaped: AuditEventRecord.columns) FROM audit_events
             WHERE tenant_id = \(tenantID.rawValue) AND (\(page.cursor?.lastID)::uuid IS NULL OR id < \(page.cursor?.lastID))
             ORDER BY id DESC LIMIT \(page.limit + 1)
            """
        ).collect()
        return Page(fetched: try rows.map(AuditEventRecord.init(row:)), limit: page.limit, id: \.id)
    }
}

extension OperatorTransaction {
    /// Records a platform-level event (the operator's own, about no one tenant).
    public func recordPlatformAudit(_ event: NewAuditEvent) async throws {
        try await connection.insertAudit(event, tenant: nil, logger: logger)
    }
}
