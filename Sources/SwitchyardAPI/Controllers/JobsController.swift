import Foundation
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardJobs
import SwitchyardPostgres

/// `/v1/jobs` and `/v1/dead-letters`: a tenant's background jobs, their attempts, and redrive.
struct JobsController: Sendable {
    let database: Database
    let limits: LimitsConfiguration
    let idempotent: IdempotentPost
    let registry: JobRegistry

    func addRoutes(jobs group: RouterGroup<TenantRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get("{job_id}", use: show)
        group.post("{job_id}/cancel", use: cancel)
        group.post("{job_id}/retry", use: retry)
    }

    func addRoutes(deadLetters group: RouterGroup<TenantRequestContext>) {
        group.get(use: listDead)
        group.post("redrive", use: redrive)
    }

    @Sendable func create(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        return try await idempotent.respond(to: request, requestID: context.requestID, tenant: context.tenantID, logger: context.logger) { body in
            let input = try Components.Schemas.JobCreate.decode(from: body)
            let integrationID = try input.integrationID
            let payload = try registry.tenantPayload(kind: input.kind, json: try (input.payload ?? .init()).data)
            let enqueued = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
                try await Self.requireIntegration(integrationID, in: transaction)
                return try await transaction.enqueue(
                    NewJob(
                        kind: input.kind,
                        payloadJSON: payload.json,
                        payloadVersion: payload.version,
                        integrationID: integrationID,
                        priority: input.priority ?? 0,
                        runAt: input.runAt,
                        maxAttempts: input.maxAttempts ?? 10,
                        uniqueKey: input.uniqueKey
                    )
                )
            }
            // An active job with the same unique key is the answer, not an error.
            return try .json(
                Components.Schemas.Job(enqueued.job),
                status: enqueued.created ? .created : .ok,
                headers: [.location: "/v1/jobs/\(enqueued.job.id.lowercasedString)"]
            )
        }
    }

    /// An `integration_id` in a body must name one of the tenant's integrations (422 otherwise).
    static func requireIntegration(_ id: UUID?, in transaction: TenantTransaction) async throws {
        guard let id else { return }
        guard try await transaction.integration(id) != nil else {
            throw SwitchyardError.validation("integration_id does not name one of your integrations.")
        }
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let page = try request.pageRequest(limits, filters: ["state", "kind", "integration_id"])
        var filter = try Self.filter(request)
        if let text = request.uri.queryParameters["state"] {
            filter.states = try text.split(separator: ",", omittingEmptySubsequences: false).map { name in
                guard let state = JobState(rawValue: String(name)) else {
                    throw SwitchyardError.invalidRequest(
                        "state must be one or more (comma-separated) of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))."
                    )
                }
                return state
            }
        }
        return try await list(page, filter: filter, context: context)
    }

    @Sendable func listDead(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let page = try request.pageRequest(limits, filters: ["kind", "integration_id"])
        var filter = try Self.filter(request)
        filter.states = [.dead]
        return try await list(page, filter: filter, context: context)
    }

    private func list(_ page: PageRequest, filter: JobFilter, context: TenantRequestContext) async throws -> Response {
        let result = try await database.withTenant(context.tenantID, logger: context.logger) { try await $0.jobs(filter, page: page) }
        return try HTTPPayload.json(Components.Schemas.JobList(result)).response
    }

    /// `kind` and `integration_id` from the query string.
    static func filter(_ request: Request) throws -> JobFilter {
        let query = request.uri.queryParameters
        var filter = JobFilter(kind: query["kind"].map(String.init))
        if let text = query["integration_id"] {
            guard let id = UUID(uuidString: String(text)) else { throw SwitchyardError.invalidRequest("integration_id must be a UUID.") }
            filter.integrationID = id
        }
        return filter
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("job_id", context: context, resource: "The job")
        guard let record = try await database.withTenant(context.tenantID, logger: context.logger, { try await $0.job(id) }) else {
            throw SwitchyardError.notFound("The job")
        }
        return try HTTPPayload.json(Components.Schemas.Job(record)).response
    }

    @Sendable func cancel(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try await change(request, context: context, action: "job.cancelled") { try await $0.cancelJob($1) }
    }

    @Sendable func retry(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try await change(request, context: context, action: "job.retried") { try await $0.retryJob($1) }
    }

    private func change(
        _ request: Request,
        context: TenantRequestContext,
        action: String,
        _ operation: @Sendable (TenantTransaction, UUID) async throws -> JobRecord?
    ) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("job_id", context: context, resource: "The job")
        let record = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard let record = try await operation(transaction, id) else { throw SwitchyardError.notFound("The job") }
            try await transaction.recordAudit(context.audit(action, "job", id.lowercasedString))
            return record
        }
        return try HTTPPayload.json(Components.Schemas.Job(record)).response
    }

    @Sendable func redrive(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let input = try Components.Schemas.RedriveRequest.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        let filter = JobFilter(kind: input.kind, integrationID: try input.integrationID, ids: try input.jobIDs)
        let jobs = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let jobs = try await transaction.redriveDeadJobs(filter, limit: input.limit ?? 1000)
            if !jobs.isEmpty {
                try await transaction.recordAudit(context.audit("job.redriven", "job", nil, ["count": "\(jobs.count)"]))
            }
            return jobs
        }
        return try HTTPPayload.json(Components.Schemas.RedriveResult(jobs)).response
    }
}
