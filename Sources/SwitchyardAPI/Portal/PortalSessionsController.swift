import Foundation
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardPostgres

/// `POST /v1/portal-sessions`: a one-time link to the tenant portal, for the calling tenant only.
struct PortalSessionsController: Sendable {
    let database: Database
    let settings: PortalSettings
    let publicBaseURL: String

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.post(use: create)
    }

    @Sendable func create(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let token = OpaqueToken.generate(prefix: "pl_")
        let expiresAt = Date().addingTimeInterval(TimeInterval(settings.linkTTLSeconds))
        try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let id = try await transaction.createPortalLink(tokenHash: token.hash, createdBy: context.caller.key.displayPrefix, expiresAt: expiresAt)
            try await transaction.recordAudit(context.audit("portal_link.created", "portal_link", id.lowercasedString))
        }
        return try HTTPPayload.json(
            Components.Schemas.PortalSession(url: publicBaseURL + "/portal/open/" + token.value, expiresAt: expiresAt),
            status: .created,
            headers: [.cacheControl: "no-store"]
        ).response
    }
}
