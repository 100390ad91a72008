import Foundation
import HTTPTypes
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardPostgres
import SwitchyardProviders

/// `/v1/integrations`: a tenant's connections to provider accounts.
struct IntegrationsController: Sendable {
    let database: Database
    let limits: LimitsConfiguration
    let idempotent: IdempotentPost
    let directory: ProviderDirectory
    let oauth: OAuthServices

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.post("authorize-url", use: authorizeURL)
        group.get("{integration_id}", use: show)
        group.patch("{integration_id}", use: update)
        group.delete("{integration_id}", use: delete)
        group.get("{integration_id}/credentials", use: credentials)
        group.post("{integration_id}/refresh", use: refresh)
        group.post("{integration_id}/disconnect", use: disconnect)
    }

    @Sendable func create(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        return try await idempotent.respond(to: request, requestID: context.requestID, tenant: context.tenantID, logger: context.logger) { body in
            let input = try Components.Schemas.IntegrationCreate.decode(from: body)
            let record = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
                guard let provider = try await directory.provider(input.provider, in: transaction) else {
                    throw SwitchyardError.validation("Unknown provider '\(input.provider)'. GET /v1/providers lists them.")
                }
                let credential = try Self.credential(input.credentials.additionalProperties, for: provider)
                let parameters = input.connectionParameters?.additionalProperties ?? [:]
                try provider.validateConnectionParameters(parameters)
                let record = try await transaction.createIntegration(
                    NewIntegration(
                        provider: provider.id,
                        displayName: input.displayName ?? provider.displayName,
                        status: .connected,
                        connectionParameters: parameters,
                        endUserID: input.endUserId,
                        tags: input.tags ?? [],
                        credential: credential
                    )
                )
                try await transaction.recordAudit(
                    context.audit("integration.created", "integration", record.id.lowercasedString, ["provider": provider.id])
                )
                return record
            }
            return try .json(
                Components.Schemas.Integration(record),
                status: .created,
                headers: [.location: "/v1/integrations/\(record.id.lowercasedString)"]
            )
        }
    }

    /// The credential document for a static (API key or basic) provider, checked against its scheme.
    static func credential(_ fields: [String: String], for provider: ProviderDefinition) throws -> IntegrationCredential {
        switch provider.authentication {
        case .oauth2:
            throw SwitchyardError.validation("'\(provider.id)' connects with OAuth 2.0: start a connect session instead of sending credentials.")
        case .apiKey(let scheme):
            try scheme.validate(fields)
            return .apiKey(fields: fields)
        case .basic(let scheme):
            try scheme.validate(fields)
            return .basic(fields: fields)
        }
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let page = try request.pageRequest(limits, filters: ["provider", "status", "tag"])
        let query = request.uri.queryParameters
        var filter = IntegrationFilter(provider: query["provider"].map(String.init), tag: query["tag"].map(String.init))
        if let status = query["status"] {
            guard let value = IntegrationStatus(rawValue: String(status)) else {
                throw SwitchyardError.invalidRequest("status must be one of \(IntegrationStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            filter.status = value
        }
        let result = try await database.readAsTenant(context.tenantID, logger: context.logger) { try await $0.integrations(filter, page: page) }
        return try HTTPPayload.json(Components.Schemas.IntegrationList(result)).response
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("integration_id", context: context, resource: "The integration")
        guard let record = try await database.integration(id, of: context.tenantID, logger: context.logger) else {
            throw SwitchyardError.notFound("The integration")
        }
        return try HTTPPayload.json(Components.Schemas.Integration(record)).response
    }

    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("integration_id", context: context, resource: "The integration")
        let input = try Components.Schemas.IntegrationUpdate.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        let update = IntegrationUpdate(
            displayName: input.displayName,
            endUserID: input.endUserId,
            tags: input.tags,
            providerAccountID: input.providerAccountId
        )
        guard let record = try await database.withTenant(context.tenantID, logger: context.logger, { try await $0.updateIntegration(id, update) })
        else {
            throw SwitchyardError.notFound("The integration")
        }
        return try HTTPPayload.json(Components.Schemas.Integration(record)).response
    }

    /// Deletes the integration; an OAuth grant is revoked at the provider first when it can be (REQUIREMENTS OA-8).
    @Sendable func delete(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("integration_id", context: context, resource: "The integration")
        let revocation = await oauth.revoker.revoke(id, tenant: context.tenantID, logger: context.logger)
        let deleted = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let deleted = try await transaction.deleteIntegration(id)
            if deleted {
                try await transaction.recordAudit(
                    context.audit("integration.deleted", "integration", id.lowercasedString, ["revocation": revocation.rawValue])
                )
            }
            return deleted
        }
        guard deleted else { throw SwitchyardError.notFound("The integration") }
        return HTTPPayload.noContent().response
    }

    /// Keeps the integration but forgets its credential, after revoking the grant at the provider when it can.
    @Sendable func disconnect(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("integration_id", context: context, resource: "The integration")
        guard try await database.withTenant(context.tenantID, logger: context.logger, { try await $0.integration(id) }) != nil else {
            throw SwitchyardError.notFound("The integration")
        }
        let revocation = await oauth.revoker.revoke(id, tenant: context.tenantID, logger: context.logger)
        let record = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            try await transaction.deleteCredential(for: id)
            guard let record = try await transaction.setIntegrationStatus(id, .disconnected) else {
                throw SwitchyardError.notFound("The integration")
            }
            try await transaction.recordAudit(
                context.audit("integration.disconnected", "integration", id.lowercasedString, ["revocation": revocation.rawValue])
            )
            try await transaction.recordEvent("integration.disconnected", integrationID: id, data: ["revocation": revocation.rawValue])
            return record
        }
        return try HTTPPayload.json(Components.Schemas.DisconnectResult(integration: .init(record), revocation: .init(revocation))).response
    }

    /// The provider's consent URL for an app that shows its own UI; same state and PKCE protections as connect sessions.
    @Sendable func authorizeURL(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let body = try Components.Schemas.AuthorizeURLRequest.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        let input = try body.options
        let origins = try await database.withTenant(context.tenantID, logger: context.logger) {
            try await $0.currentTenant()?.connectReturnOrigins ?? []
        }
        try AuthorizationRules.checkReturnTo(input.returnTo, allowed: origins)
        let authorization = try await oauth.connector.authorizationURL(
            for: OAuthConnector.Request(
                provider: body.provider,
                integrationID: input.integrationID,
                extraScopes: input.scopes ?? [],
                connectionParameters: input.connectionParameters ?? [:],
                endUserID: input.endUserID,
                tags: input.tags ?? [],
                returnTo: input.returnTo
            ),
            tenant: context.tenantID,
            logger: context.logger
        )
        return try HTTPPayload.json(
            Components.Schemas.AuthorizeURL(url: authorization.url, expiresAt: authorization.expiresAt, redirectUri: oauth.connector.redirectURI),
            status: .created,
            headers: [.cacheControl: "no-store"]
        ).response
    }

    /// Refreshes an OAuth integration's access token now.
    @Sendable func refresh(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("integration_id", context: context, resource: "The integration")
        guard let integration = try await database.withTenant(context.tenantID, logger: context.logger, { try await $0.integration(id) }) else {
            throw SwitchyardError.notFound("The integration")
        }
        guard integration.authType == .oauth2 else {
            throw SwitchyardError.validation("Only OAuth 2.0 integrations have tokens to refresh; this one uses \(integration.authType.rawValue).")
        }
        let credential = try await oauth.refresher.refresh(id, tenant: context.tenantID, force: true, logger: context.logger)
        let expiresAt: Date? = if case .oauth2(let tokens) = credential { tokens.expiresAt } else { nil }
        return try HTTPPayload.json(Components.Schemas.RefreshResult(integrationID: id, expiresAt: expiresAt)).response
    }

    /// The usable credential, for keys granted `credentials:read`; every read is audited in the statement that reads it.
    @Sendable func credentials(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.credentialsRead)
        let id = try request.uuid("integration_id", context: context, resource: "The integration")
        let audit = context.audit("credential.read", "integration", id.lowercasedString)
        guard let read = try await database.auditedCredential(id, of: context.tenantID, audit: audit, logger: context.logger) else {
            throw SwitchyardError.notFound("The integration")
        }
        guard read.integration.status != .needsReauth else { throw TokenRefresher.needsReauth }
        guard let credential = try await oauth.refresher.usable(read.credential, of: id, tenant: context.tenantID, logger: context.logger) else {
            throw SwitchyardError.conflict("This integration has no credential; connect it first.")
        }
        context.logger.info("credential read", metadata: ["integration_id": "\(id.lowercasedString)"])
        return try HTTPPayload.json(
            Components.Schemas.IntegrationCredential(integrationID: id, credential: credential),
            headers: [.cacheControl: "no-store"]
        ).response
    }
}
