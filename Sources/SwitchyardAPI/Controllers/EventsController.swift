import Foundation
import Hummingbird
import SwitchyardAPIContract
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
        return try HTTPPayload.json(Components.Schemas.EventList(result)).response
    }
}

extension Components.Schemas.Event {
    init(_ record: EventRecord) throws {
        self.init(
            id: record.id.lowercasedString,
            _type: record.type,
            integrationId: record.integrationID?.lowercasedString,
            data: try .init(unvalidatedValue: record.data.mapValues(\.openAPIValue)),
            createdAt: record.createdAt
        )
    }
}

extension Components.Schemas.EventList {
    init(_ page: Page<EventRecord>) throws {
        self.init(data: try page.items.map(Components.Schemas.Event.init), nextCursor: page.nextCursor?.token)
    }
}

extension JSONValue {
    /// The value as a free-form property of a generated type holds it (`OpenAPIValueContainer`): `nil` for null,
    /// `[(any Sendable)?]` and `[String: (any Sendable)?]` for arrays and objects.
    var openAPIValue: (any Sendable)? {
        switch self {
        case .null: nil
        case .bool(let value): value
        case .number(let value): value
        case .string(let value): value
        case .array(let values): values.map(\.openAPIValue) as [(any Sendable)?]
        case .object(let members): members.mapValues(\.openAPIValue) as [String: (any Sendable)?]
        }
    }
}
