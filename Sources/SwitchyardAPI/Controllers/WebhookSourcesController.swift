import Foundation
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardWebhooks

/// `/v1/webhook-sources`: a tenant's inbound webhook endpoints, their signature schemes and secrets.
struct WebhookSourcesController: Sendable {
    let database: Database
    let limits: LimitsConfiguration
    let ingestor: WebhookIngestor
    let publicBaseURL: String

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get("{source_id}", use: show)
        group.patch("{source_id}", use: update)
        group.delete("{source_id}", use: delete)
        group.post("{source_id}/secrets", use: addSecret)
        group.delete("{source_id}/secrets/{secret_id}", use: expireSecret)
    }

    @Sendable func create(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let input = try Components.Schemas.WebhookSourceCreate.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        let scheme = input.scheme.verification
        let generated = input.generateSecret == true ? WebhookSourceRules.generate(for: scheme) : nil
        let (record, secrets) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            if let integrationID = input.integrationID, try await transaction.integration(integrationID) == nil {
                throw SwitchyardError.validation("integration_id names no integration of this tenant.")
            }
            let record = try await transaction.createWebhookSource(
                name: input.name,
                scheme: try Self.encode(scheme),
                integrationID: input.integrationID,
                maxBodyBytes: input.maxBodyBytes ?? WebhookSourceRules.defaultMaxBodyBytes
            )
            if let secret = generated ?? input.secret { _ = try await transaction.addWebhookSecret(secret, to: record.id, expiresAt: nil) }
            try await transaction.recordAudit(
                context.audit("webhook_source.created", "webhook_source", record.id.lowercasedString, ["scheme": scheme.type])
            )
            return (record, try await transaction.webhookSecrets(of: record.id))
        }
        return try HTTPPayload.json(
            Components.Schemas.WebhookSource(record, secrets: secrets, ingestURL: ingestURL(record.id), secret: generated),
            status: .created,
            headers: [.location: "/v1/webhook-sources/\(record.id.lowercasedString)", .cacheControl: "no-store"]
        ).response
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let page = try request.pageRequest(limits)
        let (result, secrets) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let result = try await transaction.webhookSources(page)
            var secrets: [UUID: [WebhookSecretRecord]] = [:]
            for source in result.items { secrets[source.id] = try await transaction.webhookSecrets(of: source.id) }
            return (result, secrets)
        }
        return try HTTPPayload.json(Components.Schemas.WebhookSourceList(result, secrets: secrets, ingestURL: ingestURL)).response
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("source_id", context: context, resource: "The webhook source")
        let (record, secrets) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard let record = try await transaction.webhookSource(id) else { throw SwitchyardError.notFound("The webhook source") }
            return (record, try await transaction.webhookSecrets(of: id))
        }
        return try HTTPPayload.json(Components.Schemas.WebhookSource(record, secrets: secrets, ingestURL: ingestURL(id))).response
    }

    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("source_id", context: context, resource: "The webhook source")
        let input = try WebhookSourcePatch.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        let scheme = try input.update.scheme.map { try Self.encode($0.verification) }
        let link = input.integrationLink
        let (record, secrets) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            if case .some(.some(let integrationID)) = link, try await transaction.integration(integrationID) == nil {
                throw SwitchyardError.validation("integration_id names no integration of this tenant.")
            }
            guard
                let record = try await transaction.updateWebhookSource(
                    id,
                    name: input.update.name,
                    scheme: scheme,
                    integrationID: link,
                    maxBodyBytes: input.update.maxBodyBytes
                )
            else {
                throw SwitchyardError.notFound("The webhook source")
            }
            try await transaction.recordAudit(context.audit("webhook_source.updated", "webhook_source", id.lowercasedString))
            return (record, try await transaction.webhookSecrets(of: id))
        }
        ingestor.invalidate(id)
        return try HTTPPayload.json(Components.Schemas.WebhookSource(record, secrets: secrets, ingestURL: ingestURL(id))).response
    }

    @Sendable func delete(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("source_id", context: context, resource: "The webhook source")
        let deleted = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let deleted = try await transaction.deleteWebhookSource(id)
            if deleted { try await transaction.recordAudit(context.audit("webhook_source.deleted", "webhook_source", id.lowercasedString)) }
            return deleted
        }
        guard deleted else { throw SwitchyardError.notFound("The webhook source") }
        ingestor.invalidate(id)
        return HTTPPayload.noContent().response
    }

    /// Adds a secret (generated unless given); with `expire_others_after_seconds` the others keep working only that long (WH-3).
    @Sendable func addSecret(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("source_id", context: context, resource: "The webhook source")
        let input = try Components.Schemas.WebhookSecretCreate.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        let (record, generated) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard let source = try await transaction.webhookSource(id) else { throw SwitchyardError.notFound("The webhook source") }
            let scheme = try WebhookScheme.stored(source.scheme, source: id)
            if let secret = input.secret { try WebhookSourceRules.validate(secret: secret, scheme: scheme) }
            let generated = input.secret == nil ? WebhookSourceRules.generate(for: scheme) : nil
            let record = try await transaction.addWebhookSecret(input.secret ?? generated ?? "", to: id, expiresAt: nil)
            if let seconds = input.expireOthersAfterSeconds {
                try await transaction.expireOtherWebhookSecrets(of: id, keeping: record.id, at: Date().addingTimeInterval(TimeInterval(seconds)))
            }
            try await transaction.recordAudit(
                context.audit("webhook_secret.added", "webhook_source", id.lowercasedString, ["secret_id": record.id.lowercasedString])
            )
            return (record, generated)
        }
        ingestor.invalidate(id)
        return try HTTPPayload.json(
            Components.Schemas.WebhookSecret(record, secret: generated),
            status: .created,
            headers: [.cacheControl: "no-store"]
        ).response
    }

    /// Stops a secret from verifying anything, now.
    @Sendable func expireSecret(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("source_id", context: context, resource: "The webhook source")
        let secretID = try request.uuid("secret_id", context: context, resource: "The secret")
        let expired = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let expired = try await transaction.expireWebhookSecret(secretID, of: id, at: Date())
            if expired != nil {
                try await transaction.recordAudit(
                    context.audit("webhook_secret.expired", "webhook_source", id.lowercasedString, ["secret_id": secretID.lowercasedString])
                )
            }
            return expired
        }
        guard expired != nil else { throw SwitchyardError.notFound("The secret") }
        ingestor.invalidate(id)
        return HTTPPayload.noContent().response
    }

    private func ingestURL(_ id: UUID) -> String { "\(publicBaseURL)/webhooks/\(id.lowercasedString)" }

    static func encode(_ scheme: WebhookScheme) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(scheme), as: UTF8.self)
    }
}
