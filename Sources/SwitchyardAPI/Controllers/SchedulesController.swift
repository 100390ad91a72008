import Foundation
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardJobs
import SwitchyardPostgres

/// `/v1/schedules`: a tenant's recurring jobs (fixed interval or cron, UTC).
struct SchedulesController: Sendable {
    let database: Database
    let limits: LimitsConfiguration
    let idempotent: IdempotentPost
    let registry: JobRegistry

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get("{schedule_id}", use: show)
        group.patch("{schedule_id}", use: update)
        group.delete("{schedule_id}", use: delete)
        group.post("{schedule_id}/pause", use: pause)
        group.post("{schedule_id}/resume", use: resume)
    }

    /// The rule in a body, checked, with its first fire from now.
    static func rule(intervalSeconds: Int?, cron: String?) throws -> (rule: ScheduleRule, firstFire: Date) {
        let rule: ScheduleRule
        do {
            rule = try ScheduleRule(intervalSeconds: intervalSeconds, cron: cron)
        } catch {
            throw SwitchyardError.validation("cron: \(error)")
        }
        guard let first = rule.firstFire(now: Date()) else {
            throw SwitchyardError.validation("The cron expression never fires (within five years).")
        }
        return (rule, first)
    }

    @Sendable func create(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        return try await idempotent.respond(to: request, requestID: context.requestID, tenant: context.tenantID, logger: context.logger) { body in
            let input = try Components.Schemas.ScheduleCreate.decode(from: body)
            let integrationID = try input.integrationID
            let payload = try registry.tenantPayload(kind: input.kind, json: try (input.payload ?? .init()).data)
            let (rule, firstFire) = try Self.rule(intervalSeconds: input.intervalSeconds, cron: input.cron)
            let record = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
                try await JobsController.requireIntegration(integrationID, in: transaction)
                let record = try await transaction.createSchedule(
                    NewJobSchedule(
                        name: input.name,
                        kind: input.kind,
                        payloadJSON: payload.json,
                        payloadVersion: payload.version,
                        integrationID: integrationID,
                        intervalSeconds: rule.intervalSeconds,
                        cron: rule.cron,
                        jitterSeconds: input.jitterSeconds ?? 0,
                        maxAttempts: input.maxAttempts ?? 10,
                        paused: input.paused ?? false,
                        nextFireAt: firstFire
                    )
                )
                try await transaction.recordAudit(context.audit("schedule.created", "schedule", record.id.lowercasedString, ["kind": input.kind]))
                return record
            }
            return try .json(
                Components.Schemas.Schedule(record),
                status: .created,
                headers: [.location: "/v1/schedules/\(record.id.lowercasedString)"]
            )
        }
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let page = try request.pageRequest(limits)
        let result = try await database.withTenant(context.tenantID, logger: context.logger) { try await $0.schedules(page) }
        return try HTTPPayload.json(Components.Schemas.ScheduleList(result)).response
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("schedule_id", context: context, resource: "The schedule")
        guard let record = try await database.withTenant(context.tenantID, logger: context.logger, { try await $0.schedule(id) }) else {
            throw SwitchyardError.notFound("The schedule")
        }
        return try HTTPPayload.json(Components.Schemas.Schedule(record)).response
    }

    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("schedule_id", context: context, resource: "The schedule")
        let input = try Components.Schemas.ScheduleUpdate.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        var update = JobScheduleUpdate()
        update.name = input.name
        update.jitterSeconds = input.jitterSeconds
        update.maxAttempts = input.maxAttempts
        if input.intervalSeconds != nil || input.cron != nil {
            let (rule, firstFire) = try Self.rule(intervalSeconds: input.intervalSeconds, cron: input.cron)
            update.rule = (rule.intervalSeconds, rule.cron, firstFire)
        }
        let record = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard let existing = try await transaction.schedule(id) else { throw SwitchyardError.notFound("The schedule") }
            var update = update
            if let payload = input.payload {
                let checked = try registry.tenantPayload(kind: existing.kind, json: try payload.data)
                update.payloadJSON = checked.json
                update.payloadVersion = checked.version
            }
            guard let record = try await transaction.updateSchedule(id, update) else { throw SwitchyardError.notFound("The schedule") }
            return record
        }
        return try HTTPPayload.json(Components.Schemas.Schedule(record)).response
    }

    @Sendable func delete(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("schedule_id", context: context, resource: "The schedule")
        let deleted = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let deleted = try await transaction.deleteSchedule(id)
            if deleted { try await transaction.recordAudit(context.audit("schedule.deleted", "schedule", id.lowercasedString)) }
            return deleted
        }
        guard deleted else { throw SwitchyardError.notFound("The schedule") }
        return HTTPPayload.noContent().response
    }

    @Sendable func pause(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try await setPaused(true, request, context: context)
    }

    @Sendable func resume(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try await setPaused(false, request, context: context)
    }

    /// Resuming starts the rule afresh from now: fires missed while paused are not made up.
    private func setPaused(_ paused: Bool, _ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("schedule_id", context: context, resource: "The schedule")
        let record = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard let existing = try await transaction.schedule(id) else { throw SwitchyardError.notFound("The schedule") }
            var nextFire: Date?
            if !paused && existing.paused {
                nextFire = try ScheduleRule(intervalSeconds: existing.intervalSeconds, cron: existing.cron).firstFire(now: Date())
            }
            guard let record = try await transaction.setSchedulePaused(id, paused: paused, nextFireAt: nextFire) else {
                throw SwitchyardError.notFound("The schedule")
            }
            return record
        }
        return try HTTPPayload.json(Components.Schemas.Schedule(record)).response
    }
}
