import Foundation
import Hummingbird
import SwitchyardCore
import SwitchyardPostgres

/// `GET /v1/audit-events`: the tenant's audit log, newest first.
struct AuditEventsController: Sendable {
    let database: Database
    let limits: LimitsConfiguration

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get(use: list)
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let page = try request.pageRequest(limits)
        let result = try await database.withTenant(context.tenantID, logger: context.logger) { try await $0.auditEvents(page) }
        return try HTTPPayload.json(ListEnvelope(data: result.items.map(AuditEventResponse.init), nextCursor: result.nextCursor?.token)).response
    }
}

struct AuditEventResponse: Encodable, Sendable {
    let id: String
    let actor: String
    let action: String
    let resourceType: String
    let resourceID: String?
    let requestID: String?
    let details: [String: String]
    let createdAt: Date

    init(_ record: AuditEventRecord) {
        id = record.id.lowercasedString
        actor = record.actor
        action = record.action
        resourceType = record.resourceType
        resourceID = record.resourceID
        requestID = record.requestID
        details = record.details
        createdAt = record.createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, actor, action, details
        case resourceType = "resource_type"
        case resourceID = "resource_id"
        case requestID = "request_id"
        case createdAt = "created_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(actor, forKey: .actor)
        try container.encode(action, forKey: .action)
        try container.encode(resourceType, forKey: .resourceType)
        try container.encode(resourceID, forKey: .resourceID)
        try container.encode(requestID, forKey: .requestID)
        try container.encode(details, forKey: .details)
        try container.encode(createdAt, forKey: .createdAt)
    }
}
