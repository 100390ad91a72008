import Foundation
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres

/// `GET /v1/me`: who is calling, the tenant and the key.
struct MeController: Sendable {
    let database: Database

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get(use: show)
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> Response {
        guard let tenant = try await database.currentTenant(context.tenantID, logger: context.logger) else {
            throw SwitchyardError.unauthorized("The tenant of this API key no longer exists.")
        }
        return try HTTPPayload.json(Components.Schemas.Me(tenant: .init(tenant), apiKey: .init(context.caller.key))).response
    }
}
