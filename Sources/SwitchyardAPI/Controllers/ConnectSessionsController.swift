import Foundation
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardPostgres
import SwitchyardProviders

/// `/v1/connect-sessions`: short-lived links a tenant hands to an end user to connect (or reconnect) an account.
struct ConnectSessionsController: Sendable {
    let database: Database
    let limits: LimitsConfiguration
    let oauth: OAuthServices

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.post(use: create)
    }

    @Sendable func create(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let body = try Components.Schemas.ConnectSessionCreate.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        let input = try body.options
        let token = OpaqueToken.generate(prefix: "cs_")
        let record = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            var allowed = body.allowedProviders ?? []
            if let integrationID = input.integrationID {
                guard let integration = try await transaction.integration(integrationID) else { throw SwitchyardError.notFound("The integration") }
                if allowed.isEmpty { allowed = [integration.provider] }
                guard allowed == [integration.provider] else {
                    throw SwitchyardError.validation(
                        "To re-authorize integration \(integrationID.lowercasedString), allow only its provider '\(integration.provider)'."
                    )
                }
            }
            for id in allowed {
                guard let provider = try await oauth.directory.provider(id, in: transaction) else {
                    throw SwitchyardError.validation("Unknown provider '\(id)'. GET /v1/providers lists them.")
                }
                guard provider.authentication.oauth2 != nil else {
                    throw SwitchyardError.validation("'\(id)' does not connect with OAuth 2.0; create its integration with credentials instead.")
                }
                if let parameters = input.connectionParameters { try provider.validateUserConnectionParameters(parameters) }
            }
            let tenant = try await transaction.currentTenant()
            try AuthorizationRules.checkReturnTo(input.returnTo, allowed: tenant?.connectReturnOrigins ?? [])
            let record = try await transaction.createConnectSession(
                NewConnectSession(
                    tokenHash: token.hash,
                    allowedProviders: allowed,
                    integrationID: input.integrationID,
                    endUserID: input.endUserID,
                    tags: input.tags ?? [],
                    extraScopes: input.scopes ?? [],
                    connectionParameters: input.connectionParameters ?? [:],
                    returnTo: input.returnTo,
                    expiresAt: Date().addingTimeInterval(TimeInterval(oauth.settings.connectSessionTTLSeconds))
                )
            )
            try await transaction.recordAudit(
                context.audit(
                    "connect_session.created",
                    "connect_session",
                    record.id.lowercasedString,
                    [
                        "providers": allowed.joined(separator: ",")
                    ]
                )
            )
            return record
        }
        let url = oauth.publicBaseURL + "/connect/" + token.value
        return try HTTPPayload.json(
            Components.Schemas.ConnectSession(record, token: token.value, url: url),
            status: .created,
            headers: [.cacheControl: "no-store"]
        ).response
    }
}
