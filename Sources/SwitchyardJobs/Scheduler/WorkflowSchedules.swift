import Foundation
import Logging
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres
import SwitchyardWorkflows

/// A workflow whose active version is triggered by a schedule has a schedule of its own (`job_schedules`, named
/// `workflow:<id>`) firing `workflow.run` jobs that start a run of the version active at the fire. Whatever changes
/// which version is active, or whether the workflow is enabled, calls `sync` in the same transaction.
public enum WorkflowSchedules {
    /// The schedule's name for a workflow.
    public static func name(of workflowID: UUID) -> String { "workflow:\(workflowID.lowercasedString)" }

    /// Makes the workflow's schedule match its active version's trigger: removed when the workflow is disabled or not
    /// triggered by a schedule, otherwise (re)made with that rule, its first fire one interval (or the next cron
    /// time) from now. A cron expression that does not parse is a 422 naming `trigger.cron`.
    public static func sync(_ workflow: WorkflowRecord, definition: WorkflowDefinition, in transaction: TenantTransaction) async throws {
        try await transaction.deleteSchedule(named: name(of: workflow.id))
        guard workflow.enabled, case .schedule(let interval, let cron) = definition.trigger else { return }
        let rule: ScheduleRule
        do {
            rule = try ScheduleRule(intervalSeconds: interval, cron: cron)
        } catch {
            throw WorkflowDefinitionError(step: nil, field: "trigger.cron", pointer: "/trigger/cron", message: "\(error)")
        }
        guard let first = rule.firstFire(now: Date()) else {
            throw WorkflowDefinitionError(step: nil, field: "trigger.cron", pointer: "/trigger/cron", message: "the expression never fires")
        }
        let payload = WorkflowRunPayload(workflowID: workflow.id, runID: nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        _ = try await transaction.createSchedule(
            NewJobSchedule(
                name: name(of: workflow.id),
                kind: WorkflowRunPayload.kind,
                payloadJSON: String(decoding: try encoder.encode(payload), as: UTF8.self),
                payloadVersion: WorkflowRunPayload.version,
                integrationID: nil,
                intervalSeconds: rule.intervalSeconds,
                cron: rule.cron,
                jitterSeconds: 0,
                maxAttempts: WorkflowRunPayload.maxAttempts,
                paused: false,
                nextFireAt: first
            )
        )
    }

    /// `sync` for a workflow whose active version's definition is read here.
    public static func sync(_ workflow: WorkflowRecord, in transaction: TenantTransaction) async throws {
        guard let version = try await transaction.workflowVersion(workflow.id, version: workflow.activeVersion) else {
            throw SwitchyardError.internal("workflow \(workflow.id.lowercasedString) has no version \(workflow.activeVersion)")
        }
        try await sync(workflow, definition: try WorkflowDefinition.parse(version.definition), in: transaction)
    }
}

extension WorkflowSchedules {
    /// The scheduler's periodic count of running and waiting runs, for `switchyard_workflow_runs_active`.
    public static func countActiveRuns(into metrics: WorkflowMetrics) -> @Sendable (Database, Logger) async throws -> Void {
        { database, logger in
            let active = try await database.withQueue(logger: logger) { try await $0.activeWorkflowRuns() }
            metrics.setActiveRuns(running: active.running, waiting: active.waiting)
        }
    }
}
