import Foundation
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardPostgres
import SwitchyardProviders

/// `/v1/oauth-apps`: a tenant's own OAuth client per provider; without one, the platform default applies.
struct OAuthAppsController: Sendable {
    let database: Database
    let directory: ProviderDirectory
    let limits: LimitsConfiguration

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get(use: list)
        group.get("{provider_id}", use: show)
        group.put("{provider_id}", use: save)
        group.delete("{provider_id}", use: delete)
    }

    /// The tenant's own apps (the platform defaults it may fall back to are shown per provider by `show`).
    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let apps = try await database.withTenant(context.tenantID, logger: context.logger) { try await $0.oauthApps() }
        return try HTTPPayload.json(Components.Schemas.OAuthAppList(apps)).response
    }

    /// The app the connect flow would use for this provider: the tenant's own, else the platform default.
    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let provider = context.parameters.get("provider_id") ?? ""
        guard let app = try await database.effectiveOAuthApp(provider: provider, tenant: context.tenantID, logger: context.logger) else {
            throw SwitchyardError.notFound("An OAuth app for this provider")
        }
        return try HTTPPayload.json(Components.Schemas.OAuthApp(app)).response
    }

    @Sendable func save(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let providerID = context.parameters.get("provider_id") ?? ""
        let input = try Components.Schemas.OAuthAppSave.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        let (record, created) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard let provider = try await directory.provider(providerID, in: transaction) else { throw SwitchyardError.notFound("The provider") }
            try Components.Schemas.OAuthAppSave.requireOAuth(provider)
            let saved = try await transaction.saveOAuthApp(
                provider: provider.id,
                clientID: input.clientId,
                clientSecret: input.clientSecret,
                scopes: input.scopes
            )
            try await transaction.recordAudit(context.audit("oauth_app.saved", "oauth_app", provider.id, ["client_id": input.clientId]))
            return saved
        }
        return try HTTPPayload.json(Components.Schemas.OAuthApp(record), status: created ? .created : .ok).response
    }

    @Sendable func delete(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let provider = context.parameters.get("provider_id") ?? ""
        let deleted = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let deleted = try await transaction.deleteOAuthApp(provider: provider)
            if deleted { try await transaction.recordAudit(context.audit("oauth_app.deleted", "oauth_app", provider)) }
            return deleted
        }
        guard deleted else { throw SwitchyardError.notFound("An OAuth app of this tenant for this provider") }
        return HTTPPayload.noContent().response
    }
}

/// `/v1/platform/oauth-apps`: the operator's default OAuth client per built-in provider.
struct PlatformOAuthAppsController: Sendable {
    let database: Database
    let directory: ProviderDirectory
    let limits: LimitsConfiguration

    func addRoutes(to group: RouterGroup<OperatorRequestContext>) {
        group.get(use: list)
        group.get("{provider_id}", use: show)
        group.put("{provider_id}", use: save)
        group.delete("{provider_id}", use: delete)
    }

    @Sendable func list(_ request: Request, context: OperatorRequestContext) async throws -> Response {
        let apps = try await database.withOperator(logger: context.logger) { try await $0.platformOAuthApps() }
        return try HTTPPayload.json(Components.Schemas.OAuthAppList(apps)).response
    }

    @Sendable func show(_ request: Request, context: OperatorRequestContext) async throws -> Response {
        let provider = context.parameters.get("provider_id") ?? ""
        guard let app = try await database.withOperator(logger: context.logger, { try await $0.platformOAuthApp(provider: provider) }) else {
            throw SwitchyardError.notFound("A platform OAuth app for this provider")
        }
        return try HTTPPayload.json(Components.Schemas.OAuthApp(app)).response
    }

    @Sendable func save(_ request: Request, context: OperatorRequestContext) async throws -> Response {
        let providerID = context.parameters.get("provider_id") ?? ""
        guard let provider = directory.builtIn.provider(id: providerID) else { throw SwitchyardError.notFound("The built-in provider") }
        try Components.Schemas.OAuthAppSave.requireOAuth(provider)
        let input = try Components.Schemas.OAuthAppSave.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        let (record, created) = try await database.withOperator(logger: context.logger) { transaction in
            let saved = try await transaction.savePlatformOAuthApp(
                provider: provider.id,
                clientID: input.clientId,
                clientSecret: input.clientSecret,
                scopes: input.scopes
            )
            try await transaction.recordPlatformAudit(
                NewAuditEvent(
                    actor: "operator",
                    action: "oauth_app.saved",
                    resourceType: "platform_oauth_app",
                    resourceID: provider.id,
                    requestID: context.requestID
                )
            )
            return saved
        }
        return try HTTPPayload.json(Components.Schemas.OAuthApp(record), status: created ? .created : .ok).response
    }

    @Sendable func delete(_ request: Request, context: OperatorRequestContext) async throws -> Response {
        let provider = context.parameters.get("provider_id") ?? ""
        guard try await database.withOperator(logger: context.logger, { try await $0.deletePlatformOAuthApp(provider: provider) }) else {
            throw SwitchyardError.notFound("A platform OAuth app for this provider")
        }
        return HTTPPayload.noContent().response
    }
}

/// `PUT .../oauth-apps/{provider}`: the client registered at the provider.
extension Components.Schemas.OAuthAppSave: StrictJSONBody {
    func validate() throws(SwitchyardError) {
        guard (1...500).contains(clientId.codePointCount) else { throw .validation("client_id must be 1 to 500 characters.") }
        guard (1...4096).contains(clientSecret.codePointCount) else { throw .validation("client_secret must be 1 to 4096 characters.") }
        if let scopes, scopes.count > 100 || scopes.contains(where: { $0.isEmpty || $0.contains(" ") }) {
            throw .validation("scopes are at most 100 non-empty values without spaces.")
        }
    }

    static func requireOAuth(_ provider: ProviderDefinition) throws {
        guard provider.authentication.oauth2 != nil else {
            throw SwitchyardError.validation("'\(provider.id)' does not use OAuth 2.0; it has no OAuth app.")
        }
    }
}

extension Components.Schemas.OAuthApp {
    /// An OAuth app as the API shows it: the client id, never the secret.
    init(_ record: OAuthAppRecord) {
        self.init(
            provider: record.provider,
            clientId: record.clientID,
            scopes: record.scopes,
            source: .init(record.source),
            createdAt: record.createdAt,
            updatedAt: record.updatedAt
        )
    }
}

extension Components.Schemas.OAuthApp.SourcePayload {
    init(_ source: OAuthAppSource) {
        switch source {
        case .tenant: self = .tenant
        case .platform: self = .platform
        }
    }
}

extension Components.Schemas.OAuthAppList {
    /// The list is short and not paginated.
    init(_ apps: [OAuthAppRecord]) {
        self.init(data: apps.map(Components.Schemas.OAuthApp.init), nextCursor: nil)
    }
}
