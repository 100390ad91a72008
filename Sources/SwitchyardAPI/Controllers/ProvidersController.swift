import Foundation
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardPostgres
import SwitchyardProviders

/// `/v1/providers`: the built-in catalog and the tenant's own provider definitions.
struct ProvidersController: Sendable {
    let database: Database
    let directory: ProviderDirectory
    let limits: LimitsConfiguration

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get(use: list)
        group.get("{provider_id}", use: show)
        group.put("{provider_id}", use: save)
        group.delete("{provider_id}", use: delete)
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let providers = try await database.withTenant(context.tenantID, logger: context.logger) { try await directory.providers(in: $0) }
        let custom = Set(providers.dropFirst(directory.builtIn.providers.count).map(\.id))
        return try HTTPPayload.json(Components.Schemas.ProviderList(providers, custom: custom)).response
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = context.parameters.get("provider_id") ?? ""
        guard let provider = try await database.withTenant(context.tenantID, logger: context.logger, { try await directory.provider(id, in: $0) })
        else {
            throw SwitchyardError.notFound("The provider")
        }
        return try HTTPPayload.json(Components.Schemas.Provider(provider, custom: directory.builtIn.provider(id: id) == nil)).response
    }

    /// Creates or replaces a custom provider; built-in ids are reserved.
    @Sendable func save(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = context.parameters.get("provider_id") ?? ""
        guard ProviderDefinition.isValidID(id) else {
            throw SwitchyardError.validation("A provider id is 1 to 63 characters of a-z, 0-9 and '-'.")
        }
        guard directory.builtIn.provider(id: id) == nil else {
            throw SwitchyardError.conflict("'\(id)' is a built-in provider; choose another id for a custom one.")
        }
        let body = try await request.collectJSONBody(limit: limits.maxBodyBytes)
        var provider = try Components.Schemas.ProviderDefinitionBody.decode(from: body).definition
        guard provider.id == id else {
            throw SwitchyardError.validation("The body's id '\(provider.id)' differs from the path's '\(id)'.")
        }
        provider.id = id
        try provider.validateCustom(allowingHTTPHosts: directory.allowedHTTPHosts)
        let json = try ProviderDirectory.encode(provider)
        let saved = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let saved = try await transaction.saveCustomProvider(id: id, definition: json)
            try await transaction.recordAudit(context.audit("provider.saved", "provider", id))
            return saved
        }
        let status: HTTPResponse.Status = saved.createdAt == saved.updatedAt ? .created : .ok
        return try HTTPPayload.json(Components.Schemas.Provider(provider, custom: true), status: status).response
    }

    @Sendable func delete(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = context.parameters.get("provider_id") ?? ""
        let deleted = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let deleted = try await transaction.deleteCustomProvider(id)
            if deleted { try await transaction.recordAudit(context.audit("provider.deleted", "provider", id)) }
            return deleted
        }
        guard deleted else {
            if directory.builtIn.provider(id: id) != nil { throw SwitchyardError.conflict("Built-in providers cannot be deleted.") }
            throw SwitchyardError.notFound("The provider")
        }
        return HTTPPayload.noContent().response
    }
}
