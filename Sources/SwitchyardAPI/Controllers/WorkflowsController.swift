import Foundation
import Hummingbird
import OpenAPIRuntime
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardJobs
import SwitchyardPostgres
import SwitchyardWorkflows

/// `/v1/workflows` and `/v1/workflow-runs`: versioned workflow definitions, manual runs, and the runs with their
/// steps. What a definition may say and how a run executes are `SwitchyardWorkflows`'s; the routes here check the
/// tenant's access, call its use cases and show the records.
struct WorkflowsController: Sendable {
    let database: Database
    let limits: LimitsConfiguration
    let idempotent: IdempotentPost

    func addRoutes(workflows group: RouterGroup<TenantRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get("{workflow_id}", use: show)
        group.patch("{workflow_id}", use: update)
        group.delete("{workflow_id}", use: delete)
        group.post("{workflow_id}/enable", use: enable)
        group.post("{workflow_id}/disable", use: disable)
        group.get("{workflow_id}/versions", use: versions)
        group.get("{workflow_id}/versions/{version}", use: version)
        group.post("{workflow_id}/versions/{version}/activate", use: activate)
        group.post("{workflow_id}/runs", use: startRun)
    }

    func addRoutes(runs group: RouterGroup<TenantRequestContext>) {
        group.get(use: listRuns)
        group.get("{workflow_run_id}", use: showRun)
        group.post("{workflow_run_id}/cancel", use: cancelRun)
        group.post("{workflow_run_id}/redrive", use: redriveRun)
    }

    // MARK: Workflows

    @Sendable func create(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let input = try Components.Schemas.WorkflowCreate.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        let definition = try WorkflowWire.json(input.definition)
        let (workflow, version) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let workflow = try await WorkflowPublishing.create(
                name: input.name,
                definition: definition,
                enabled: input.enabled ?? true,
                in: transaction
            )
            try await WorkflowSchedules.sync(workflow, in: transaction)
            try await transaction.recordAudit(context.audit("workflow.created", "workflow", workflow.id.lowercasedString))
            return (workflow, try await Self.activeVersion(of: workflow, in: transaction))
        }
        return try HTTPPayload.json(
            try Components.Schemas.Workflow(workflow, definition: version.definition),
            status: .created,
            headers: [.location: "/v1/workflows/\(workflow.id.lowercasedString)"]
        ).response
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let page = try request.pageRequest(limits)
        let (result, definitions) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let result = try await transaction.workflows(page: page)
            var definitions: [UUID: JSONValue] = [:]
            for workflow in result.items { definitions[workflow.id] = try await Self.activeVersion(of: workflow, in: transaction).definition }
            return (result, definitions)
        }
        return try HTTPPayload.json(
            Components.Schemas.WorkflowList(
                data: try result.items.map { try Components.Schemas.Workflow($0, definition: definitions[$0.id] ?? .object([:])) },
                nextCursor: result.nextCursor?.token
            )
        ).response
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("workflow_id", context: context, resource: "The workflow")
        let (workflow, version) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let workflow = try await Self.require(id, in: transaction)
            return (workflow, try await Self.activeVersion(of: workflow, in: transaction))
        }
        return try HTTPPayload.json(try Components.Schemas.Workflow(workflow, definition: version.definition)).response
    }

    /// A new name, or a new definition published as the next version (and made active).
    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("workflow_id", context: context, resource: "The workflow")
        let body = try await request.collectJSONBody(limit: limits.maxBodyBytes)
        // Checked after the workflow is found: another tenant's workflow is a 404 whatever the body says.
        let parsed = Result { try Components.Schemas.WorkflowUpdate.decode(from: body) }
        let (workflow, version) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            var workflow = try await Self.require(id, in: transaction)
            let input = try parsed.get()
            if let definition = input.definition {
                guard
                    let published = try await WorkflowPublishing.publish(
                        id,
                        definition: try WorkflowWire.json(definition),
                        name: input.name,
                        in: transaction
                    )
                else { throw SwitchyardError.notFound("The workflow") }
                workflow = published
                try await WorkflowSchedules.sync(workflow, in: transaction)
                try await transaction.recordAudit(
                    context.audit("workflow.version_published", "workflow", id.lowercasedString, ["version": "\(workflow.activeVersion)"])
                )
            } else if let name = input.name {
                guard let renamed = try await transaction.renameWorkflow(id, name: name) else { throw SwitchyardError.notFound("The workflow") }
                workflow = renamed
                try await transaction.recordAudit(context.audit("workflow.updated", "workflow", id.lowercasedString))
            }
            return (workflow, try await Self.activeVersion(of: workflow, in: transaction))
        }
        return try HTTPPayload.json(try Components.Schemas.Workflow(workflow, definition: version.definition)).response
    }

    @Sendable func delete(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("workflow_id", context: context, resource: "The workflow")
        let deleted = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let deleted = try await transaction.deleteWorkflow(id)
            try await transaction.deleteSchedule(named: WorkflowSchedules.name(of: id))
            if deleted { try await transaction.recordAudit(context.audit("workflow.deleted", "workflow", id.lowercasedString)) }
            return deleted
        }
        guard deleted else { throw SwitchyardError.notFound("The workflow") }
        return HTTPPayload.noContent().response
    }

    @Sendable func enable(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try await setEnabled(true, request, context: context)
    }

    @Sendable func disable(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try await setEnabled(false, request, context: context)
    }

    private func setEnabled(_ enabled: Bool, _ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("workflow_id", context: context, resource: "The workflow")
        let (workflow, version) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard let workflow = try await transaction.setWorkflowEnabled(id, enabled: enabled) else {
                throw SwitchyardError.notFound("The workflow")
            }
            try await WorkflowSchedules.sync(workflow, in: transaction)
            try await transaction.recordAudit(context.audit(enabled ? "workflow.enabled" : "workflow.disabled", "workflow", id.lowercasedString))
            return (workflow, try await Self.activeVersion(of: workflow, in: transaction))
        }
        return try HTTPPayload.json(try Components.Schemas.Workflow(workflow, definition: version.definition)).response
    }

    // MARK: Versions

    @Sendable func versions(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("workflow_id", context: context, resource: "The workflow")
        let (workflow, versions) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            (try await Self.require(id, in: transaction), try await transaction.workflowVersions(id))
        }
        return try HTTPPayload.json(
            Components.Schemas.WorkflowVersionList(
                data: try versions.map { try Components.Schemas.WorkflowVersion($0, activeVersion: workflow.activeVersion) }
            )
        ).response
    }

    @Sendable func version(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("workflow_id", context: context, resource: "The workflow")
        let number = try Self.versionNumber(request, context: context)
        let (workflow, version) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let workflow = try await Self.require(id, in: transaction)
            guard let version = try await transaction.workflowVersion(id, version: number) else { throw SwitchyardError.notFound("The version") }
            return (workflow, version)
        }
        return try HTTPPayload.json(try Components.Schemas.WorkflowVersion(version, activeVersion: workflow.activeVersion)).response
    }

    /// Rollback or roll forward: new runs pin this version.
    @Sendable func activate(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("workflow_id", context: context, resource: "The workflow")
        let number = try Self.versionNumber(request, context: context)
        let (workflow, version) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            _ = try await Self.require(id, in: transaction)
            guard let workflow = try await WorkflowPublishing.activate(id, version: number, in: transaction) else {
                throw SwitchyardError.notFound("The version")
            }
            try await WorkflowSchedules.sync(workflow, in: transaction)
            try await transaction.recordAudit(context.audit("workflow.version_activated", "workflow", id.lowercasedString, ["version": "\(number)"]))
            return (workflow, try await Self.activeVersion(of: workflow, in: transaction))
        }
        return try HTTPPayload.json(try Components.Schemas.Workflow(workflow, definition: version.definition)).response
    }

    // MARK: Runs

    /// A manual run. The `Idempotency-Key` is both the API's (the first response replayed for 24 h) and the run's
    /// own (unique per workflow for as long as the run exists).
    @Sendable func startRun(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("workflow_id", context: context, resource: "The workflow")
        let key = request.headers[.idempotencyKey]
        return try await idempotent.respond(to: request, requestID: context.requestID, tenant: context.tenantID, logger: context.logger) { body in
            let parsed = Result { try body.readableBytes == 0 ? nil : Components.Schemas.WorkflowRunCreate.decode(from: body) }
            let (run, created) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
                _ = try await Self.require(id, in: transaction)
                let input = try WorkflowWire.json(try parsed.get()?.input ?? OpenAPIObjectContainer())
                guard let started = try await WorkflowPublishing.startRun(id, input: input, idempotencyKey: key, in: transaction) else {
                    throw SwitchyardError.notFound("The workflow")
                }
                return started
            }
            return try HTTPPayload.json(
                try Components.Schemas.WorkflowRun(run, steps: nil),
                status: created ? .created : .ok,
                headers: [.location: "/v1/workflow-runs/\(run.id.lowercasedString)"]
            )
        }
    }

    @Sendable func listRuns(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let page = try request.pageRequest(limits, filters: ["workflow_id", "status", "created_after", "created_before"])
        let query = request.uri.queryParameters
        var filter = WorkflowRunFilter()
        if let text = query["workflow_id"] {
            guard let id = UUID(uuidString: String(text)) else { throw SwitchyardError.invalidRequest("workflow_id must be a UUID.") }
            filter.workflowID = id
        }
        if let text = query["status"] {
            guard let status = WorkflowRunStatus(rawValue: String(text)) else {
                throw SwitchyardError.invalidRequest("status must be one of \(WorkflowRunStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            filter.statuses = [status]
        }
        filter.createdAfter = try WebhookEventsController.date(query["created_after"], name: "created_after")
        filter.createdBefore = try WebhookEventsController.date(query["created_before"], name: "created_before")
        let result = try await database.withTenant(context.tenantID, logger: context.logger) { try await $0.workflowRuns(filter, page: page) }
        return try HTTPPayload.json(
            Components.Schemas.WorkflowRunList(
                data: try result.items.map { try Components.Schemas.WorkflowRun($0, steps: nil) },
                nextCursor: result.nextCursor?.token
            )
        ).response
    }

    @Sendable func showRun(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("workflow_run_id", context: context, resource: "The workflow run")
        let (run, steps) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard let run = try await transaction.workflowRun(id) else { throw SwitchyardError.notFound("The workflow run") }
            return (run, try await transaction.workflowRunSteps(id))
        }
        return try HTTPPayload.json(try Components.Schemas.WorkflowRun(run, steps: steps)).response
    }

    @Sendable func cancelRun(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("workflow_run_id", context: context, resource: "The workflow run")
        let (run, steps) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard let run = try await transaction.cancelWorkflowRun(id) else { throw SwitchyardError.notFound("The workflow run") }
            try await transaction.recordAudit(context.audit("workflow_run.cancelled", "workflow_run", id.lowercasedString))
            return (run, try await transaction.workflowRunSteps(id))
        }
        return try HTTPPayload.json(try Components.Schemas.WorkflowRun(run, steps: steps)).response
    }

    @Sendable func redriveRun(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("workflow_run_id", context: context, resource: "The workflow run")
        let (run, steps) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard let run = try await transaction.redriveWorkflowRun(id) else { throw SwitchyardError.notFound("The workflow run") }
            try await transaction.recordAudit(context.audit("workflow_run.redriven", "workflow_run", id.lowercasedString))
            return (run, try await transaction.workflowRunSteps(id))
        }
        return try HTTPPayload.json(try Components.Schemas.WorkflowRun(run, steps: steps)).response
    }

    // MARK: Helpers

    private static func require(_ id: UUID, in transaction: TenantTransaction) async throws -> WorkflowRecord {
        guard let workflow = try await transaction.workflow(id) else { throw SwitchyardError.notFound("The workflow") }
        return workflow
    }

    private static func activeVersion(of workflow: WorkflowRecord, in transaction: TenantTransaction) async throws -> WorkflowVersionRecord {
        guard let version = try await transaction.workflowVersion(workflow.id, version: workflow.activeVersion) else {
            throw SwitchyardError.internal("workflow \(workflow.id.lowercasedString) has no version \(workflow.activeVersion)")
        }
        return version
    }

    /// The `{version}` path parameter; anything but a positive whole number is a version that does not exist.
    private static func versionNumber(_ request: Request, context: TenantRequestContext) throws -> Int {
        guard let text = context.parameters.get("version"), let number = Int(text), number >= 1 else { throw SwitchyardError.notFound("The version") }
        return number
    }
}
