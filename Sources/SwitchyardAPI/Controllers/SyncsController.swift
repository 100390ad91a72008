import Foundation
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardPostgres
import SwitchyardProviders
import SwitchyardSyncs

/// Syncs: a provider's definitions (`/v1/providers/{provider_id}/syncs`), an integration's use of them
/// (`/v1/integrations/{integration_id}/syncs`) and their runs (`/v1/sync-runs/{run_id}`).
struct SyncsController: Sendable {
    let database: Database
    let directory: ProviderDirectory
    let limits: LimitsConfiguration

    func addRoutes(providers group: RouterGroup<TenantRequestContext>) {
        group.get("{provider_id}/syncs", use: listDefinitions)
        group.get("{provider_id}/syncs/{sync_name}", use: showDefinition)
        group.put("{provider_id}/syncs/{sync_name}", use: saveDefinition)
        group.delete("{provider_id}/syncs/{sync_name}", use: deleteDefinition)
    }

    func addRoutes(integrations group: RouterGroup<TenantRequestContext>) {
        group.get("{integration_id}/syncs", use: listIntegrationSyncs)
        group.get("{integration_id}/syncs/{sync_name}", use: showIntegrationSync)
        group.patch("{integration_id}/syncs/{sync_name}", use: updateIntegrationSync)
        group.post("{integration_id}/syncs/{sync_name}/trigger", use: trigger)
        group.post("{integration_id}/syncs/{sync_name}/pause", use: pause)
        group.post("{integration_id}/syncs/{sync_name}/resume", use: resume)
        group.post("{integration_id}/syncs/{sync_name}/reset", use: reset)
        group.get("{integration_id}/syncs/{sync_name}/runs", use: runs)
    }

    func addRoutes(runs group: RouterGroup<TenantRequestContext>) {
        group.get("{run_id}", use: showRun)
    }

    // MARK: Definitions

    @Sendable func listDefinitions(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let providerID = context.parameters.get("provider_id") ?? ""
        let syncs = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            _ = try await requireProvider(providerID, in: transaction)
            return try await SyncDirectory.syncs(provider: providerID, in: transaction)
        }
        return try HTTPPayload.json(Components.Schemas.SyncList(data: try syncs.map(Components.Schemas.Sync.init), nextCursor: nil)).response
    }

    @Sendable func showDefinition(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let providerID = context.parameters.get("provider_id") ?? ""
        let name = context.parameters.get("sync_name") ?? ""
        let sync = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            _ = try await requireProvider(providerID, in: transaction)
            guard let sync = try await SyncDirectory.sync(provider: providerID, name: name, in: transaction) else {
                throw SwitchyardError.notFound("The sync")
            }
            return sync
        }
        return try HTTPPayload.json(Components.Schemas.Sync(sync)).response
    }

    /// Creates or replaces one of the tenant's definitions; the names of the provider's built-in syncs are reserved.
    @Sendable func saveDefinition(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let providerID = context.parameters.get("provider_id") ?? ""
        let name = context.parameters.get("sync_name") ?? ""
        guard SyncCatalog.builtIn(provider: providerID, name: name) == nil else {
            throw SwitchyardError.conflict("'\(name)' is a built-in sync of '\(providerID)'; choose another name for your own.")
        }
        let body = try await request.collectJSONBody(limit: limits.maxBodyBytes)
        // Checked after the provider is found: another tenant's provider is a 404 whatever the body says.
        let parsed = Result { try Components.Schemas.SyncDefinition.decode(from: body).definition }
        let (definition, saved, created) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let provider = try await requireProvider(providerID, in: transaction)
            let definition = try parsed.get()
            guard definition.name == name else {
                throw SwitchyardError.validation("The body's name '\(definition.name)' differs from the path's '\(name)'.")
            }
            try definition.validate(connectionParameters: Set(provider.connectionParameters.map(\.name)))
            // A model belongs to one sync of the provider: a full run marks the model's records it did not see as deleted,
            // so two syncs writing one model would delete each other's records.
            let others = try await SyncDirectory.syncs(provider: providerID, in: transaction)
            if let other = others.first(where: { $0.definition.model == definition.model && $0.definition.name != name }) {
                throw SwitchyardError.validation(
                    "The sync definition is invalid: model '\(definition.model)' is already written by the sync '\(other.definition.name)' of this provider; give each sync its own model."
                )
            }
            let saved = try await transaction.saveSyncDefinition(provider: providerID, name: name, definition: try SyncDirectory.encode(definition))
            try await transaction.recordAudit(
                context.audit("sync_definition.saved", "sync_definition", "\(providerID)/\(name)", ["version": "\(saved.version)"])
            )
            return (definition, saved, saved.createdAt == saved.updatedAt)
        }
        let sync = ResolvedSync(provider: providerID, definition: definition, version: saved.version, builtIn: false, updatedAt: saved.updatedAt)
        return try HTTPPayload.json(Components.Schemas.Sync(sync), status: created ? .created : .ok).response
    }

    @Sendable func deleteDefinition(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let providerID = context.parameters.get("provider_id") ?? ""
        let name = context.parameters.get("sync_name") ?? ""
        guard SyncCatalog.builtIn(provider: providerID, name: name) == nil else {
            throw SwitchyardError.conflict("Built-in syncs cannot be deleted; disable it per integration instead.")
        }
        try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard try await transaction.deleteSyncDefinition(provider: providerID, name: name) else { throw SwitchyardError.notFound("The sync") }
            try await transaction.recordAudit(context.audit("sync_definition.deleted", "sync_definition", "\(providerID)/\(name)"))
        }
        return HTTPPayload.noContent().response
    }

    private func requireProvider(_ id: String, in transaction: TenantTransaction) async throws -> SwitchyardProviders.ProviderDefinition {
        guard let provider = try await directory.provider(id, in: transaction) else { throw SwitchyardError.notFound("The provider") }
        return provider
    }

    // MARK: An integration's syncs

    @Sendable func listIntegrationSyncs(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("integration_id", context: context, resource: "The integration")
        let entries = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard let integration = try await transaction.integration(id) else { throw SwitchyardError.notFound("The integration") }
            let syncs = try await SyncDirectory.syncs(provider: integration.provider, in: transaction)
            let states = Dictionary(
                try await transaction.integrationSyncs(integration: id).map { ($0.syncName, $0) },
                uniquingKeysWith: { a, _ in a }
            )
            let runs = try await transaction.latestSyncRuns(integration: id)
            return try syncs.map { sync in
                let name = sync.definition.name
                return try Components.Schemas.IntegrationSync(sync, state: states[name], integration: integration, lastRun: runs[name])
            }
        }
        return try HTTPPayload.json(Components.Schemas.IntegrationSyncList(data: entries, nextCursor: nil)).response
    }

    @Sendable func showIntegrationSync(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try await respond(request, context: context) { _, _, _ in }
    }

    @Sendable func updateIntegrationSync(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let body = try await request.collectJSONBody(limit: limits.maxBodyBytes)
        // Checked after the integration and sync are found: another tenant's integration is a 404 whatever the body says.
        let parsed = Result { try IntegrationSyncPatch.decode(from: body) }
        return try await respond(request, context: context) { transaction, integration, sync in
            let patch = try parsed.get()
            let input = patch.update
            let name = sync.definition.name
            let current = try await transaction.integrationSync(integration: integration.id, name: name, locking: true)
            var change = IntegrationSyncChange(enabled: input.enabled)
            // Enabling a disabled sync makes it due now; enabling an enabled one changes nothing.
            if input.enabled == true, current?.enabled != true { change.nextRunAt = Date() }
            if let frequency = input.frequencySeconds {
                change.frequencySeconds = .some(frequency)
            } else if patch.clearsFrequency {
                change.frequencySeconds = .some(nil)
            }
            try await transaction.changeIntegrationSync(integration: integration.id, name: name, change)
            try await transaction.recordAudit(context.audit("integration_sync.updated", "integration_sync", Self.resourceID(integration, name)))
        }
    }

    @Sendable func pause(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        return try await respond(request, context: context) { transaction, integration, sync in
            try await transaction.changeIntegrationSync(integration: integration.id, name: sync.definition.name, IntegrationSyncChange(paused: true))
            try await transaction.recordAudit(
                context.audit("integration_sync.paused", "integration_sync", Self.resourceID(integration, sync.definition.name))
            )
        }
    }

    /// A sync that fell due while paused keeps its past `next_run_at`, so it is due at once.
    @Sendable func resume(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        return try await respond(request, context: context) { transaction, integration, sync in
            try await transaction.changeIntegrationSync(integration: integration.id, name: sync.definition.name, IntegrationSyncChange(paused: false))
            try await transaction.recordAudit(
                context.audit("integration_sync.resumed", "integration_sync", Self.resourceID(integration, sync.definition.name))
            )
        }
    }

    /// Runs `change` on the integration's sync named by the path (404 for an unknown integration or sync) in one
    /// transaction, then answers the sync's entry as it is after it.
    private func respond(
        _ request: Request,
        context: TenantRequestContext,
        _ change: @Sendable (TenantTransaction, IntegrationRecord, ResolvedSync) async throws -> Void
    ) async throws -> Response {
        let id = try request.uuid("integration_id", context: context, resource: "The integration")
        let name = context.parameters.get("sync_name") ?? ""
        let entry = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let (integration, sync) = try await Self.resolve(id, name, in: transaction)
            try await change(transaction, integration, sync)
            let state = try await transaction.integrationSync(integration: id, name: name)
            let lastRun = try await transaction.syncRuns(integration: id, sync: name, page: PageRequest(limit: 1, cursor: nil)).items.first
            return try Components.Schemas.IntegrationSync(sync, state: state, integration: integration, lastRun: lastRun)
        }
        return try HTTPPayload.json(entry).response
    }

    /// The tenant's integration and the sync of its provider named `name`; 404 for either unknown.
    private static func resolve(_ id: UUID, _ name: String, in transaction: TenantTransaction) async throws -> (IntegrationRecord, ResolvedSync) {
        guard let integration = try await transaction.integration(id) else { throw SwitchyardError.notFound("The integration") }
        guard let sync = try await SyncDirectory.sync(provider: integration.provider, name: name, in: transaction) else {
            throw SwitchyardError.notFound("The sync")
        }
        return (integration, sync)
    }

    private static func resourceID(_ integration: IntegrationRecord, _ name: String) -> String {
        "\(integration.id.lowercasedString)/\(name)"
    }

    // MARK: Runs

    /// Starts a run now (incremental or full); the active run, if there is one, instead.
    @Sendable func trigger(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let body = try await request.collectJSONBody(limit: limits.maxBodyBytes)
        // Checked after the integration and sync are found, as the other bodies are.
        let parsed = Result { try body.readableBytes == 0 ? nil : Components.Schemas.SyncTrigger.decode(from: body).mode }
        return try await start(request, context: context, action: "integration_sync.triggered") { transaction, integration, sync in
            let requested: SyncRunMode? = try parsed.get().map { $0 == .full ? .full : .incremental }
            return try await SyncRunStart.start(sync, integration: integration, mode: requested, trigger: .api, in: transaction)
        }
    }

    /// Forgets the checkpoint and starts a full run, in one transaction.
    @Sendable func reset(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        return try await start(request, context: context, action: "integration_sync.reset") { transaction, integration, sync in
            try await transaction.changeIntegrationSync(
                integration: integration.id,
                name: sync.definition.name,
                IntegrationSyncChange(forgetCheckpoint: true)
            )
            return try await SyncRunStart.start(sync, integration: integration, mode: .full, trigger: .reset, in: transaction)
        }
    }

    /// 202 with the new run, or 200 with the one already queued or running; 409 unless the integration is connected.
    private func start(
        _ request: Request,
        context: TenantRequestContext,
        action: String,
        _ operation: @Sendable (TenantTransaction, IntegrationRecord, ResolvedSync) async throws -> SyncRunStart.Started
    ) async throws -> Response {
        let id = try request.uuid("integration_id", context: context, resource: "The integration")
        let name = context.parameters.get("sync_name") ?? ""
        let started = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let (integration, sync) = try await Self.resolve(id, name, in: transaction)
            guard integration.status == .connected else {
                throw SwitchyardError.conflict(
                    "The integration is \(integration.status.rawValue), not connected; reconnect it before running its syncs."
                )
            }
            let started = try await operation(transaction, integration, sync)
            try await transaction.recordAudit(
                context.audit(action, "integration_sync", Self.resourceID(integration, name), ["run_id": started.run.id.lowercasedString])
            )
            return started
        }
        return try HTTPPayload.json(Components.Schemas.SyncRun(started.run), status: started.created ? .accepted : .ok).response
    }

    @Sendable func runs(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("integration_id", context: context, resource: "The integration")
        let name = context.parameters.get("sync_name") ?? ""
        // Checked after the integration and sync are found: another tenant's integration is a 404 whatever the query.
        let parsed = Result { try request.pageRequest(limits) }
        let page = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            _ = try await Self.resolve(id, name, in: transaction)
            return try await transaction.syncRuns(integration: id, sync: name, page: try parsed.get())
        }
        return try HTTPPayload.json(Components.Schemas.SyncRunList(page)).response
    }

    @Sendable func showRun(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("run_id", context: context, resource: "The sync run")
        guard let run = try await database.withTenant(context.tenantID, logger: context.logger, { try await $0.syncRun(id) }) else {
            throw SwitchyardError.notFound("The sync run")
        }
        return try HTTPPayload.json(Components.Schemas.SyncRun(run)).response
    }
}
