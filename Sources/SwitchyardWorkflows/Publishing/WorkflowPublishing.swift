import Foundation
import SwitchyardCore
import SwitchyardPostgres

/// The use cases of workflows that the API (and tests, and benchmarks) share: saving a definition as a new version
/// after checking it whole, activating a version, and starting a manual run, each in the caller's transaction.
public enum WorkflowPublishing {
    /// Checks `definition` (422 naming the step and field) and creates the workflow with it as version 1.
    public static func create(
        name: String,
        definition json: JSONValue,
        enabled: Bool,
        in transaction: TenantTransaction
    ) async throws -> WorkflowRecord {
        let definition = try await checked(json, in: transaction)
        return try await transaction.createWorkflow(name: name, definition: json, eventTypes: definition.trigger.eventTypes, enabled: enabled)
    }

    /// Checks `definition` and publishes it as the workflow's next version, which becomes the active one. Runs already
    /// started stay on the version they pinned. Nil when there is no such workflow.
    public static func publish(
        _ id: UUID,
        definition json: JSONValue,
        name: String?,
        in transaction: TenantTransaction
    ) async throws -> WorkflowRecord? {
        guard try await transaction.workflow(id) != nil else { return nil }
        let definition = try await checked(json, in: transaction)
        return try await transaction.publishWorkflowVersion(id, definition: json, eventTypes: definition.trigger.eventTypes, name: name)
    }

    /// Makes `version` the one new runs pin: a rollback or a roll forward. Nil when the workflow or version does not exist.
    public static func activate(_ id: UUID, version: Int, in transaction: TenantTransaction) async throws -> WorkflowRecord? {
        guard let record = try await transaction.workflowVersion(id, version: version) else { return nil }
        let definition = try WorkflowDefinition.parse(record.definition)
        return try await transaction.activateWorkflowVersion(id, version: version, eventTypes: definition.trigger.eventTypes)
    }

    /// Starts a run of the workflow's active version with `input`, queued for an executor. With an idempotency key,
    /// a second request with the same key returns the first run (`created` false); the same key with another input
    /// is a 422. Nil when there is no such workflow; 409 when it is disabled.
    public static func startRun(
        _ workflowID: UUID,
        input: JSONValue,
        idempotencyKey: String?,
        in transaction: TenantTransaction
    ) async throws -> (run: WorkflowRunRecord, created: Bool)? {
        guard let workflow = try await transaction.workflow(workflowID) else { return nil }
        if let idempotencyKey, let existing = try await transaction.workflowRun(workflowID: workflowID, idempotencyKey: idempotencyKey) {
            guard existing.input == input else {
                throw SwitchyardError.validation("The Idempotency-Key was used for a run with another input.")
            }
            return (existing, false)
        }
        guard workflow.enabled else { throw WorkflowStateConflict(detail: "The workflow is disabled; enable it to start runs.") }
        let runID = UUID.v7()
        let job = try await transaction.enqueue(try NewJob(WorkflowRunPayload(workflowID: workflowID, runID: runID))).job
        let inserted = try await transaction.insertWorkflowRun(
            NewWorkflowRun(
                id: runID,
                workflowID: workflowID,
                version: workflow.activeVersion,
                jobID: job.id,
                trigger: .object(["type": .string("manual")]),
                input: input,
                idempotencyKey: idempotencyKey
            )
        )
        // Another request with the same key won the race: this one's job goes with its rollback.
        guard inserted.created else { throw WorkflowStateConflict(detail: "A run with this Idempotency-Key is being started; retry.") }
        return inserted
    }

    /// The definition read and checked whole, its integrations and destinations the tenant's own.
    static func checked(_ json: JSONValue, in transaction: TenantTransaction) async throws -> WorkflowDefinition {
        let definition = try WorkflowDefinition.parse(json)
        try await definition.checkReferences(
            integration: { try await transaction.integrationExists($0) },
            destination: { try await transaction.destinationExists($0) }
        )
        return definition
    }
}
