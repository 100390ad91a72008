import Foundation
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres

/// `/v1/tenants`: the platform operator manages tenants and hands out their first API key.
struct TenantsController: Sendable {
    let database: Database
    let limits: LimitsConfiguration
    let idempotent: IdempotentPost

    func addRoutes(to group: RouterGroup<OperatorRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get("{tenant_id}", use: show)
        group.patch("{tenant_id}", use: update)
        group.delete("{tenant_id}", use: delete)
        group.post("{tenant_id}/api-keys", use: createKey)
        group.post("{tenant_id}/data-key/rotate", use: rotateDataKey)
    }

    @Sendable func create(_ request: Request, context: OperatorRequestContext) async throws -> Response {
        try await idempotent.respond(to: request, requestID: context.requestID, tenant: nil, logger: context.logger) { body in
            let input = try Components.Schemas.TenantCreate.decode(from: body)
            let tenant = try await database.withOperator(logger: context.logger) {
                try await $0.createTenant(slug: input.slug, name: input.name)
            }
            context.logger.info("tenant created", metadata: ["tenant_id": "\(tenant.id)"])
            return try .json(Components.Schemas.Tenant(tenant), status: .created, headers: [.location: "/v1/tenants/\(tenant.id)"])
        }
    }

    @Sendable func list(_ request: Request, context: OperatorRequestContext) async throws -> Response {
        let page = try request.pageRequest(limits)
        let result = try await database.withOperator(logger: context.logger) { try await $0.tenants(page) }
        return try HTTPPayload.json(Components.Schemas.TenantList(result)).response
    }

    @Sendable func show(_ request: Request, context: OperatorRequestContext) async throws -> Response {
        let id = TenantID(try request.uuid("tenant_id", context: context, resource: "The tenant"))
        guard let tenant = try await database.withOperator(logger: context.logger, { try await $0.tenant(id) }) else {
            throw SwitchyardError.notFound("The tenant")
        }
        return try HTTPPayload.json(Components.Schemas.Tenant(tenant)).response
    }

    @Sendable func update(_ request: Request, context: OperatorRequestContext) async throws -> Response {
        let id = TenantID(try request.uuid("tenant_id", context: context, resource: "The tenant"))
        let input = try Components.Schemas.TenantUpdate.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        let origins = try input.normalizedReturnOrigins()
        guard
            let tenant = try await database.withOperator(
                logger: context.logger,
                {
                    try await $0.updateTenant(id, slug: input.slug, name: input.name, connectReturnOrigins: origins)
                }
            )
        else {
            throw SwitchyardError.notFound("The tenant")
        }
        return try HTTPPayload.json(Components.Schemas.Tenant(tenant)).response
    }

    @Sendable func delete(_ request: Request, context: OperatorRequestContext) async throws -> Response {
        let id = TenantID(try request.uuid("tenant_id", context: context, resource: "The tenant"))
        guard try await database.withOperator(logger: context.logger, { try await $0.deleteTenant(id) }) else {
            throw SwitchyardError.notFound("The tenant")
        }
        context.logger.info("tenant deleted", metadata: ["tenant_id": "\(id)"])
        return HTTPPayload.noContent().response
    }

    @Sendable func createKey(_ request: Request, context: OperatorRequestContext) async throws -> Response {
        let id = TenantID(try request.uuid("tenant_id", context: context, resource: "The tenant"))
        return try await idempotent.respond(to: request, requestID: context.requestID, tenant: nil, logger: context.logger) { body in
            let input = try Components.Schemas.APIKeyCreate.decode(from: body)
            let created = try await database.withTenant(id, logger: context.logger) { transaction in
                guard try await transaction.currentTenant() != nil else { throw SwitchyardError.notFound("The tenant") }
                let created = try await transaction.createAPIKey(input.newKey(createdBy: "operator"))
                try await transaction.recordAudit(
                    NewAuditEvent(
                        actor: "operator",
                        action: "api_key.created",
                        resourceType: "api_key",
                        resourceID: created.record.id.lowercasedString,
                        requestID: context.requestID,
                        details: ["prefix": created.record.displayPrefix]
                    )
                )
                return created
            }
            context.logger.info("api key created by the operator", metadata: ["tenant_id": "\(id)", "api_key": "\(created.record.displayPrefix)"])
            return try .json(
                Components.Schemas.CreatedAPIKey(created.record, key: created.secret.value),
                status: .created,
                replayWithout: Components.Schemas.APIKey(created.record)
            )
        }
    }

    /// Retires the tenant's data key for a new one now; its secrets are re-sealed in the background.
    @Sendable func rotateDataKey(_ request: Request, context: OperatorRequestContext) async throws -> Response {
        let id = TenantID(try request.uuid("tenant_id", context: context, resource: "The tenant"))
        let newKey = try await database.withTenant(id, logger: context.logger) { transaction in
            guard try await transaction.currentTenant() != nil else { throw SwitchyardError.notFound("The tenant") }
            let newKey = try await transaction.rotateDataKey()
            try await transaction.recordAudit(
                NewAuditEvent(
                    actor: "operator",
                    action: "data_key.rotated",
                    resourceType: "data_key",
                    resourceID: newKey.lowercasedString,
                    requestID: context.requestID
                )
            )
            return newKey
        }
        context.logger.notice("data key rotated", metadata: ["tenant_id": "\(id)"])
        return try HTTPPayload.json(
            Components.Schemas.DataKeyRotation(tenantId: id.description, dataKeyId: newKey.lowercasedString),
            status: .accepted
        ).response
    }
}
