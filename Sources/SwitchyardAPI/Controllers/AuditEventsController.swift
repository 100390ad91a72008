import Foundation
import Hummingbird
import SwitchyardAPIContract
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
        return try HTTPPayload.json(Components.Schemas.AuditEventList(result)).response
    }
}

extension Components.Schemas.AuditEvent {
    init(_ record: AuditEventRecord) {
        self.init(
            id: record.id.lowercasedString,
            actor: record.actor,
            action: record.action,
            resourceType: record.resourceType,
            resourceId: record.resourceID,
            requestId: record.requestID,
            details: .init(additionalProperties: record.details),
            createdAt: record.createdAt
        )
    }
}

extension Components.Schemas.AuditEventList {
    init(_ page: Page<AuditEventRecord>) {
        self.init(data: page.items.map(Components.Schemas.AuditEvent.init), nextCursor: page.nextCursor?.token)
    }
}
