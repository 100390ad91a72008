import Foundation
import Hummingbird
import SwitchyardCore
import SwitchyardPostgres

/// `GET /v1/events`: what happened to the tenant's integrations (`integration.connected`, `integration.needs_reauth`, ...), oldest first.
struct EventsController: Sendable {
    let database: Database
    let limits: LimitsConfiguration

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get(use: list)
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let page = try request.pageRequest(limits, filters: ["type", "integration_id"])
        let query = request.uri.queryParameters
        var integrationID: UUID?
        if let text = query["integration_id"] {
            guard let id = UUID(uuidString: String(text)) else { throw SwitchyardError.invalidRequest("integration_id must be a UUID.") }
            integrationID = id
        }
        let type = query["type"].map(String.init)
        let result = try await database.withTenant(context.tenantID, logger: context.logger) {
            try await $0.events(type: type, integrationID: integrationID, page: page)
        }
        return try HTTPPayload.json(ListEnvelope(data: result.items.map(EventResponse.init), nextCursor: result.nextCursor?.token)).response
    }
}

struct EventResponse: Encodable, Sendable {
    let record: EventRecord

    init(_ record: EventRecord) {
        self.record = record
    }

    enum CodingKeys: String, CodingKey {
        case id, type, data
        case integrationID = "integration_id"
        case createdAt = "created_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.id.lowercasedString, forKey: .id)
        try container.encode(record.type, forKey: .type)
        try container.encode(record.integrationID?.lowercasedString, forKey: .integrationID)
        try container.encode(record.data, forKey: .data)
        try container.encode(record.createdAt, forKey: .createdAt)
    }
}
