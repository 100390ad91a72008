import Foundation
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres

/// `/v1/api-keys`: a tenant manages its own keys.
struct APIKeysController: Sendable {
    let database: Database
    let limits: LimitsConfiguration
    let idempotent: IdempotentPost
    let authenticator: Authenticator

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get("{key_id}", use: show)
        group.delete("{key_id}", use: revoke)
    }

    @Sendable func create(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        return try await idempotent.respond(to: request, requestID: context.requestID, tenant: context.tenantID, logger: context.logger) { body in
            let input = try Components.Schemas.APIKeyCreate.decode(from: body)
            let new = input.newKey(createdBy: context.caller.key.displayPrefix)
            guard new.scopes.isSubset(of: context.caller.key.scopes) else {
                throw SwitchyardError.forbidden("A key cannot create a key with scopes it does not have itself.")
            }
            let created = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
                let created = try await transaction.createAPIKey(new)
                try await transaction.recordAudit(
                    context.audit("api_key.created", "api_key", created.record.id.lowercasedString, ["prefix": created.record.displayPrefix])
                )
                return created
            }
            context.logger.info("api key created", metadata: ["new_api_key": "\(created.record.displayPrefix)"])
            return try .json(
                Components.Schemas.CreatedAPIKey(created.record, key: created.secret.value),
                status: .created,
                replayWithout: Components.Schemas.APIKey(created.record)
            )
        }
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let page = try request.pageRequest(limits)
        let result = try await database.withTenant(context.tenantID, logger: context.logger) { try await $0.apiKeys(page) }
        return try HTTPPayload.json(Components.Schemas.APIKeyList(result)).response
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("key_id", context: context, resource: "The API key")
        guard let key = try await database.withTenant(context.tenantID, logger: context.logger, { try await $0.apiKey(id) }) else {
            throw SwitchyardError.notFound("The API key")
        }
        return try HTTPPayload.json(Components.Schemas.APIKey(key)).response
    }

    @Sendable func revoke(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("key_id", context: context, resource: "The API key")
        let revoked = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let key = try await transaction.revokeAPIKey(id)
            if let key {
                try await transaction.recordAudit(context.audit("api_key.revoked", "api_key", key.id.lowercasedString, ["prefix": key.displayPrefix]))
            }
            return key
        }
        guard let key = revoked else { throw SwitchyardError.notFound("The API key") }
        authenticator.evict(keyID: id)
        context.logger.info("api key revoked", metadata: ["revoked_api_key": "\(key.displayPrefix)"])
        return try HTTPPayload.json(Components.Schemas.APIKey(key)).response
    }
}

/// `GET /v1/me`: which tenant and key the caller is.
