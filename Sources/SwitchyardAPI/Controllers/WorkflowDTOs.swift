import Foundation
import OpenAPIRuntime
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres

// Definitions, inputs and outputs are the tenant's own JSON: they cross between the engine's `JSONValue` and the
// generated free-form containers by a JSON round trip.
enum WorkflowWire {
    /// A request's free-form value as the engine reads it.
    static func json(_ value: some Encodable) throws -> JSONValue {
        try SyncWire.convert(value, to: JSONValue.self)
    }

    static func object(_ value: JSONValue, what: String) throws -> OpenAPIObjectContainer {
        try SyncWire.shown(value, as: OpenAPIObjectContainer.self, what: what)
    }

    /// The `workflows.name` CHECK constraint, as a 422 naming the field.
    static func validate(name: String) throws(SwitchyardError) {
        if !(1...200).contains(name.codePointCount) { throw .validation("name must be 1 to 200 characters.") }
    }

    static func value(_ value: JSONValue?, what: String) throws -> OpenAPIValueContainer {
        guard let value else { return OpenAPIValueContainer(nilLiteral: ()) }
        return try SyncWire.shown(value, as: OpenAPIValueContainer.self, what: what)
    }
}

extension Components.Schemas.Workflow {
    init(_ record: WorkflowRecord, definition: JSONValue) throws {
        self.init(
            id: record.id.lowercasedString,
            name: record.name,
            enabled: record.enabled,
            activeVersion: record.activeVersion,
            latestVersion: record.latestVersion,
            definition: try WorkflowWire.object(definition, what: "workflow_versions.definition"),
            createdAt: record.createdAt,
            updatedAt: record.updatedAt
        )
    }
}

extension Components.Schemas.WorkflowVersion {
    init(_ record: WorkflowVersionRecord, activeVersion: Int) throws {
        self.init(
            workflowId: record.workflowID.lowercasedString,
            version: record.version,
            active: record.version == activeVersion,
            definition: try WorkflowWire.object(record.definition, what: "workflow_versions.definition"),
            createdAt: record.createdAt
        )
    }
}

extension Components.Schemas.WorkflowRun {
    init(_ record: WorkflowRunRecord, steps: [WorkflowRunStepRecord]?) throws {
        self.init(
            id: record.id.lowercasedString,
            workflowId: record.workflowID.lowercasedString,
            version: record.version,
            jobId: record.jobID.lowercasedString,
            status: try SyncWire.same(record.status, as: Components.Schemas.WorkflowRunStatus.self),
            trigger: try WorkflowWire.object(record.trigger, what: "workflow_runs.trigger"),
            input: try WorkflowWire.object(record.input, what: "workflow_runs.input"),
            idempotencyKey: record.idempotencyKey,
            cancelRequested: record.cancelRequested,
            error: record.error,
            stepsRun: record.stepsRun,
            createdAt: record.createdAt,
            startedAt: record.startedAt,
            finishedAt: record.finishedAt,
            steps: try steps?.map(Components.Schemas.WorkflowRunStep.init)
        )
    }
}

extension Components.Schemas.WorkflowRunStep {
    init(_ record: WorkflowRunStepRecord) throws {
        self.init(
            key: record.key,
            _type: record.type,
            state: try SyncWire.same(record.state, as: Components.Schemas.WorkflowStepState.self),
            input: try WorkflowWire.value(record.input, what: "workflow_run_steps.input"),
            output: try WorkflowWire.value(record.output, what: "workflow_run_steps.output"),
            error: record.error,
            attempts: record.attempts,
            resumeAt: record.resumeAt,
            startedAt: record.startedAt,
            finishedAt: record.finishedAt
        )
    }
}

/// `POST /v1/workflows`.
extension Components.Schemas.WorkflowCreate: StrictJSONBody {
    static let freeFormFields: Set<String> = ["definition"]

    func validate() throws(SwitchyardError) {
        try WorkflowWire.validate(name: name)
    }
}

/// `PATCH /v1/workflows/{id}`.
extension Components.Schemas.WorkflowUpdate: StrictJSONBody {
    static let freeFormFields: Set<String> = ["definition"]

    func validate() throws(SwitchyardError) {
        if let name { try WorkflowWire.validate(name: name) }
        if name == nil && definition == nil { throw .validation("Send at least one of name and definition.") }
    }
}

/// `POST /v1/workflows/{id}/runs`.
extension Components.Schemas.WorkflowRunCreate: StrictJSONBody {
    static let freeFormFields: Set<String> = ["input"]
}
