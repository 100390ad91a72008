import Foundation
import PostgresNIO
import SwitchyardCore

/// A row of `workflows`.
public struct WorkflowRecord: Sendable {
    public let id: UUID
    public let name: String
    public let enabled: Bool
    public let activeVersion: Int
    public let latestVersion: Int
    public let triggerEventTypes: [String]
    public let createdAt: Date
    public let updatedAt: Date

    static let columns = "id, name, enabled, active_version, latest_version, trigger_event_types, created_at, updated_at"

    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "workflows")
        id = try row("id")
        name = try row("name")
        enabled = try row("enabled")
        activeVersion = try row("active_version")
        latestVersion = try row("latest_version")
        triggerEventTypes = try row("trigger_event_types")
        createdAt = try row("created_at")
        updatedAt = try row("updated_at")
    }
}

/// A row of `workflow_versions`: a published definition, never changed.
public struct WorkflowVersionRecord: Sendable {
    public let workflowID: UUID
    public let version: Int
    public let definition: JSONValue
    public let createdAt: Date

    static let columns = "workflow_id, version, definition::text, created_at"

    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "workflow_versions")
        workflowID = try row("workflow_id")
        version = try row("version")
        definition = try row.json("definition")
        createdAt = try row("created_at")
    }
}

/// A row of `workflow_runs`.
public struct WorkflowRunRecord: Sendable {
    public let id: UUID
    public let workflowID: UUID
    public let version: Int
    public let jobID: UUID
    public let status: WorkflowRunStatus
    /// What started the run: `{"type": "manual"}`, `{"type": "event", "event": {...}}`, `{"type": "schedule", ...}`.
    public let trigger: JSONValue
    public let input: JSONValue
    public let idempotencyKey: String?
    public let cancelRequested: Bool
    public let error: String?
    public let stepsRun: Int
    public let createdAt: Date
    public let startedAt: Date?
    public let finishedAt: Date?
    public let updatedAt: Date

    static let columns = """
        id, workflow_id, version, job_id, status, trigger::text, input::text, idempotency_key, cancel_requested, error, steps_run,
        created_at, started_at, finished_at, updated_at
        """

    /// The run `new` becomes when it starts at once (the run engine's view of a run it creates with its first write).
    public init(starting new: NewWorkflowRun, at now: Date) {
        id = new.id
        workflowID = new.workflowID
        version = new.version
        jobID = new.jobID
        status = .running
        trigger = new.trigger
        input = new.input
        idempotencyKey = new.idempotencyKey
        cancelRequested = false
        error = nil
        stepsRun = 0
        createdAt = now
        startedAt = now
        finishedAt = nil
        updatedAt = now
    }

    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "workflow_runs")
        id = try row("id")
        workflowID = try row("workflow_id")
        version = try row("version")
        jobID = try row("job_id")
        status = try row.value("status")
        trigger = try row.json("trigger")
        input = try row.json("input")
        idempotencyKey = try row("idempotency_key")
        cancelRequested = try row("cancel_requested")
        error = try row("error")
        stepsRun = try row("steps_run")
        createdAt = try row("created_at")
        startedAt = try row("started_at")
        finishedAt = try row("finished_at")
        updatedAt = try row("updated_at")
    }
}

/// A row of `workflow_run_steps`.
public struct WorkflowRunStepRecord: Sendable {
    /// The step's id, or the path to a step nested in a `for_each` (`each/3/inner`).
    public let key: String
    public let position: Int
    public let type: String
    public let state: WorkflowStepState
    public let input: JSONValue?
    public let output: JSONValue?
    public let error: String?
    public let attempts: Int
    public let resumeAt: Date?
    public let startedAt: Date?
    public let finishedAt: Date?

    static let columns = "key, position, type, state, input::text, output::text, error, attempts, resume_at, started_at, finished_at"

    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "workflow_run_steps")
        key = try row("key")
        position = try row("position")
        type = try row("type")
        state = try row.value("state")
        input = try row.jsonIfPresent("input")
        output = try row.jsonIfPresent("output")
        error = try row("error")
        attempts = try row("attempts")
        resumeAt = try row("resume_at")
        startedAt = try row("started_at")
        finishedAt = try row("finished_at")
    }
}

/// A step's state as the run engine writes it: the whole row, inserted or replaced.
public struct WorkflowStepWrite: Sendable {
    public var key: String
    public var position: Int
    public var type: String
    public var state: WorkflowStepState
    public var input: JSONValue?
    public var output: JSONValue?
    public var error: String?
    public var attempts: Int
    public var resumeAt: Date?
    public var startedAt: Date?
    public var finishedAt: Date?

    public init(
        key: String,
        position: Int,
        type: String,
        state: WorkflowStepState,
        input: JSONValue? = nil,
        output: JSONValue? = nil,
        error: String? = nil,
        attempts: Int = 0,
        resumeAt: Date? = nil,
        startedAt: Date? = nil,
        finishedAt: Date? = nil
    ) {
        self.key = key
        self.position = position
        self.type = type
        self.state = state
        self.input = input
        self.output = output
        self.error = error
        self.attempts = attempts
        self.resumeAt = resumeAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// A run to create.
public struct NewWorkflowRun: Sendable {
    public var id: UUID
    public var workflowID: UUID
    public var version: Int
    public var jobID: UUID
    public var trigger: JSONValue
    public var input: JSONValue
    public var idempotencyKey: String?

    public init(id: UUID, workflowID: UUID, version: Int, jobID: UUID, trigger: JSONValue, input: JSONValue, idempotencyKey: String?) {
        self.id = id
        self.workflowID = workflowID
        self.version = version
        self.jobID = jobID
        self.trigger = trigger
        self.input = input
        self.idempotencyKey = idempotencyKey
    }
}

/// A run's end as the run engine writes it.
public struct WorkflowRunFinish: Sendable {
    public var runID: UUID
    /// The steps' states not written yet.
    public var steps: [WorkflowStepWrite]
    /// Succeeded, failed, skipped or cancelled.
    public var status: WorkflowRunStatus
    public var error: String?
    public var stepsRun: Int
    /// The event recorded with it (ids are version 7 UUIDs, made when the run ends).
    public var event: (id: UUID, type: String, data: [String: JSONValue])?

    public init(
        runID: UUID,
        steps: [WorkflowStepWrite],
        status: WorkflowRunStatus,
        error: String?,
        stepsRun: Int,
        event: (type: String, data: [String: JSONValue])?
    ) {
        self.runID = runID
        self.steps = steps
        self.status = status
        self.error = error
        self.stepsRun = stepsRun
        self.event = event.map { (id: UUID.v7(), type: $0.type, data: $0.data) }
    }
}

/// A run the run engine creates with its first write (`startNewWorkflowRuns`).
public struct NewWorkflowRunStart: Sendable {
    public var run: NewWorkflowRun
    /// The workflow's limit of running and waiting runs.
    public var workflowLimit: Int
    /// The states of the steps that ran before the write, written when the run starts.
    public var steps: [WorkflowStepWrite]
    public var stepsRun: Int

    public init(run: NewWorkflowRun, workflowLimit: Int, steps: [WorkflowStepWrite] = [], stepsRun: Int = 0) {
        self.run = run
        self.workflowLimit = workflowLimit
        self.steps = steps
        self.stepsRun = stepsRun
    }
}

/// Which runs a list shows.
public struct WorkflowRunFilter: Sendable {
    public var workflowID: UUID?
    public var statuses: [WorkflowRunStatus]
    public var createdAfter: Date?
    public var createdBefore: Date?

    public init(workflowID: UUID? = nil, statuses: [WorkflowRunStatus] = [], createdAfter: Date? = nil, createdBefore: Date? = nil) {
        self.workflowID = workflowID
        self.statuses = statuses
        self.createdAfter = createdAfter
        self.createdBefore = createdBefore
    }
}

/// Why a run or workflow cannot do what was asked; a 409 for the API.
public struct WorkflowStateConflict: Error, SwitchyardErrorConvertible {
    public let detail: String
    public init(detail: String) { self.detail = detail }
    public var switchyardError: SwitchyardError { .init(.conflict, code: "workflow-state-conflict", detail: detail) }
}

// MARK: Workflows and versions

extension TenantTransaction {
    /// Creates a workflow with its first version, active. A name already in use is a 409.
    public func createWorkflow(name: String, definition: JSONValue, eventTypes: [String], enabled: Bool) async throws -> WorkflowRecord {
        let id = UUID.v7()
        do {
            let rows = try await query(
                """
                WITH w AS (
                    INSERT INTO workflows (tenant_id, id, name, enabled, active_version, latest_version, trigger_event_types)
                    VALUES (\(tenantID.rawValue), \(id), \(name), \(enabled), 1, 1, \(eventTypes))
                    RETURNING \(unescaped: WorkflowRecord.columns)),
                v AS (
                    INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition)
                    SELECT \(tenantID.rawValue), id, 1, \(try JSONText.encode(definition))::jsonb FROM w)
                SELECT * FROM w
                """
            ).collect()
            guard let row = rows.first else { throw SwitchyardError.internal("INSERT INTO workflows returned no row") }
            return try WorkflowRecord(row: row)
        } catch let error as PSQLError where error.isUniqueViolation {
            throw WorkflowStateConflict(detail: "A workflow named '\(name)' exists already.")
        }
    }

    /// Publishes a new version of a workflow's definition and makes it the active one. Nil when there is no such workflow.
    public func publishWorkflowVersion(_ id: UUID, definition: JSONValue, eventTypes: [String], name: String?) async throws -> WorkflowRecord? {
        do {
            let rows = try await query(
                """
                WITH w AS (
                    UPDATE workflows SET latest_version = latest_version + 1, active_version = latest_version + 1,
                           trigger_event_types = \(eventTypes), name = coalesce(\(name), name), updated_at = now()
                     WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
                    RETURNING \(unescaped: WorkflowRecord.columns)),
                v AS (
                    INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition)
                    SELECT \(tenantID.rawValue), id, latest_version, \(try JSONText.encode(definition))::jsonb FROM w)
                SELECT * FROM w
                """
            ).collect()
            return try rows.first.map(WorkflowRecord.init(row:))
        } catch let error as PSQLError where error.isUniqueViolation {
            throw WorkflowStateConflict(detail: "A workflow named '\(name ?? "")' exists already.")
        }
    }

    /// Makes `version` the version new runs pin (rollback or forward); its trigger's event types come along.
    /// Nil when the workflow or the version does not exist.
    public func activateWorkflowVersion(_ id: UUID, version: Int, eventTypes: [String]) async throws -> WorkflowRecord? {
        try await query(
            """
            UPDATE workflows w SET active_version = \(version), trigger_event_types = \(eventTypes), updated_at = now()
             WHERE w.tenant_id = \(tenantID.rawValue) AND w.id = \(id)
               AND EXISTS (SELECT 1 FROM workflow_versions v WHERE v.tenant_id = w.tenant_id AND v.workflow_id = w.id AND v.version = \(version))
            RETURNING \(unescaped: WorkflowRecord.columns)
            """
        ).collect().first.map(WorkflowRecord.init(row:))
    }

    /// Renames a workflow; a name in use is a 409.
    public func renameWorkflow(_ id: UUID, name: String) async throws -> WorkflowRecord? {
        do {
            return try await query(
                """
                UPDATE workflows SET name = \(name), updated_at = now()
                 WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
                RETURNING \(unescaped: WorkflowRecord.columns)
                """
            ).collect().first.map(WorkflowRecord.init(row:))
        } catch let error as PSQLError where error.isUniqueViolation {
            throw WorkflowStateConflict(detail: "A workflow named '\(name)' exists already.")
        }
    }

    /// Enables or disables a workflow (a disabled one is started by no trigger; manual runs are refused).
    public func setWorkflowEnabled(_ id: UUID, enabled: Bool) async throws -> WorkflowRecord? {
        try await query(
            """
            UPDATE workflows SET enabled = \(enabled), updated_at = now()
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
            RETURNING \(unescaped: WorkflowRecord.columns)
            """
        ).collect().first.map(WorkflowRecord.init(row:))
    }

    /// Deletes a workflow with its versions and runs. A run that is not finished makes it a 409.
    public func deleteWorkflow(_ id: UUID) async throws -> Bool {
        let active =
            try await query(
                """
                SELECT count(*)::int FROM workflow_runs
                 WHERE tenant_id = \(tenantID.rawValue) AND workflow_id = \(id) AND status IN ('queued', 'running', 'waiting')
                """
            ).decode(Int.self).collect().first ?? 0
        if active > 0 { throw WorkflowStateConflict(detail: "The workflow has \(active) unfinished runs; cancel them or wait for them first.") }
        return try await query("DELETE FROM workflows WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) RETURNING id").collect().count == 1
    }

    public func workflow(_ id: UUID) async throws -> WorkflowRecord? {
        try await query("SELECT \(unescaped: WorkflowRecord.columns) FROM workflows WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)")
            .collect().first.map(WorkflowRecord.init(row:))
    }

    /// The tenant's workflows, oldest first.
    public func workflows(page: PageRequest) async throws -> Page<WorkflowRecord> {
        let rows = try await query(
            """
            SELECT \(unescaped: WorkflowRecord.columns) FROM workflows
             WHERE tenant_id = \(tenantID.rawValue) AND (\(page.cursor?.lastID)::uuid IS NULL OR id > \(page.cursor?.lastID))
             ORDER BY id LIMIT \(page.limit + 1)
            """
        ).collect()
        return Page(fetched: try rows.map(WorkflowRecord.init(row:)), limit: page.limit, id: \.id)
    }

    public func workflowVersion(_ workflowID: UUID, version: Int) async throws -> WorkflowVersionRecord? {
        try await query(
            """
            SELECT \(unescaped: WorkflowVersionRecord.columns) FROM workflow_versions
             WHERE tenant_id = \(tenantID.rawValue) AND workflow_id = \(workflowID) AND version = \(version)
            """
        ).collect().first.map(WorkflowVersionRecord.init(row:))
    }

    /// A workflow's versions, newest first.
    public func workflowVersions(_ workflowID: UUID) async throws -> [WorkflowVersionRecord] {
        try await query(
            """
            SELECT \(unescaped: WorkflowVersionRecord.columns) FROM workflow_versions
             WHERE tenant_id = \(tenantID.rawValue) AND workflow_id = \(workflowID) ORDER BY version DESC
            """
        ).collect().map(WorkflowVersionRecord.init(row:))
    }
}

// MARK: Runs

extension TenantTransaction {
    /// Creates a run, or returns the run that already holds its idempotency key (`created` false). A run whose id
    /// exists already (an event's job that ran before) is returned as it is.
    public func insertWorkflowRun(_ new: NewWorkflowRun) async throws -> (run: WorkflowRunRecord, created: Bool) {
        let rows = try await query(
            """
            INSERT INTO workflow_runs (tenant_id, id, workflow_id, version, job_id, trigger, input, idempotency_key)
            VALUES (\(tenantID.rawValue), \(new.id), \(new.workflowID), \(new.version), \(new.jobID),
                    \(try JSONText.encode(new.trigger))::jsonb, \(try JSONText.encode(new.input))::jsonb, \(new.idempotencyKey))
            ON CONFLICT DO NOTHING
            RETURNING \(unescaped: WorkflowRunRecord.columns)
            """
        ).collect()
        if let row = rows.first { return (try WorkflowRunRecord(row: row), true) }
        let existing = try await query(
            """
            SELECT \(unescaped: WorkflowRunRecord.columns) FROM workflow_runs
             WHERE tenant_id = \(tenantID.rawValue)
               AND (id = \(new.id) OR (workflow_id = \(new.workflowID) AND idempotency_key = \(new.idempotencyKey)))
               FOR UPDATE
            """
        ).collect()
        guard let row = existing.first else { throw SwitchyardError.internal("workflow run insert conflicted with no row") }
        return (try WorkflowRunRecord(row: row), false)
    }

    /// The run, locked for this transaction when `locking` (the run engine holds it while it reads and writes it).
    public func workflowRun(_ id: UUID, locking: Bool = false) async throws -> WorkflowRunRecord? {
        try await query(
            """
            SELECT \(unescaped: WorkflowRunRecord.columns) FROM workflow_runs
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) \(unescaped: locking ? "FOR UPDATE" : "")
            """
        ).collect().first.map(WorkflowRunRecord.init(row:))
    }

    /// The run of a workflow that holds an idempotency key.
    public func workflowRun(workflowID: UUID, idempotencyKey: String) async throws -> WorkflowRunRecord? {
        try await query(
            """
            SELECT \(unescaped: WorkflowRunRecord.columns) FROM workflow_runs
             WHERE tenant_id = \(tenantID.rawValue) AND workflow_id = \(workflowID) AND idempotency_key = \(idempotencyKey)
            """
        ).collect().first.map(WorkflowRunRecord.init(row:))
    }

    /// Runs, newest first.
    public func workflowRuns(_ filter: WorkflowRunFilter, page: PageRequest) async throws -> Page<WorkflowRunRecord> {
        let statuses = filter.statuses.map(\.rawValue)
        let rows = try await query(
            """
            SELECT \(unescaped: WorkflowRunRecord.columns) FROM workflow_runs
             WHERE tenant_id = \(tenantID.rawValue)
               AND (\(page.cursor?.lastID)::uuid IS NULL OR id < \(page.cursor?.lastID))
               AND (\(filter.workflowID)::uuid IS NULL OR workflow_id = \(filter.workflowID))
               AND (cardinality(\(statuses)::text[]) = 0 OR status = ANY (\(statuses)))
               AND (\(filter.createdAfter)::timestamptz IS NULL OR created_at >= \(filter.createdAfter))
               AND (\(filter.createdBefore)::timestamptz IS NULL OR created_at < \(filter.createdBefore))
             ORDER BY id DESC LIMIT \(page.limit + 1)
            """
        ).collect()
        return Page(fetched: try rows.map(WorkflowRunRecord.init(row:)), limit: page.limit, id: \.id)
    }

    /// A run's steps in the order they ran.
    public func workflowRunSteps(_ runID: UUID) async throws -> [WorkflowRunStepRecord] {
        try await query(
            """
            SELECT \(unescaped: WorkflowRunStepRecord.columns) FROM workflow_run_steps
             WHERE tenant_id = \(tenantID.rawValue) AND run_id = \(runID) ORDER BY position, key
            """
        ).collect().map(WorkflowRunStepRecord.init(row:))
    }

    /// Moves a queued run to running when fewer than `workflowLimit` runs of its workflow and fewer than
    /// `tenantLimit` of the tenant's runs are running or waiting, and returns it. Nil when a limit holds it back. A
    /// soft cap: two runs starting at the same instant may each see room. One pass over the active runs counts for
    /// both limits, as `startNewWorkflowRuns` does.
    public func startWorkflowRun(_ id: UUID, workflowLimit: Int, tenantLimit: Int) async throws -> WorkflowRunRecord? {
        try await query(
            """
            WITH active AS (
                SELECT workflow_id FROM workflow_runs
                 WHERE tenant_id = \(tenantID.rawValue) AND status IN ('running', 'waiting') LIMIT \(tenantLimit)
            )
            UPDATE workflow_runs r SET status = 'running', started_at = coalesce(started_at, now()), updated_at = now()
             WHERE r.tenant_id = \(tenantID.rawValue) AND r.id = \(id) AND r.status = 'queued'
               AND (SELECT count(*) FILTER (WHERE workflow_id = r.workflow_id) < \(workflowLimit) AND count(*) < \(tenantLimit) FROM active)
            RETURNING \(unescaped: WorkflowRunRecord.columns)
            """
        ).collect().first.map(WorkflowRunRecord.init(row:))
    }

    /// Writes steps' states (each row whole), the run's step count and, when given, its new status (running or
    /// waiting; which clears its error); returns whether a cancel has been asked for meanwhile.
    @discardableResult
    public func saveWorkflowProgress(_ runID: UUID, steps: [WorkflowStepWrite], status: WorkflowRunStatus?, stepsRun: Int) async throws -> Bool {
        let statement = SaveWorkflowProgressStatement(
            tenant: tenantID.rawValue,
            runID: runID,
            steps: try JSONText.encode(.array(steps.map(StepRow.json))),
            status: status,
            stepsRun: stepsRun
        )
        guard let cancel = try await connection.guardedExecute(statement, statements, logger: logger).first else {
            throw SwitchyardError.internal("workflow run \(runID.lowercasedString) vanished")
        }
        return cancel
    }

    /// Ends runs, each with its last steps' states, its final status (succeeded, failed, skipped or cancelled) and
    /// error, and its event (`workflow.run.succeeded`, `workflow.run.failed`), in one statement.
    public func finishWorkflowRuns(_ finishes: [WorkflowRunFinish]) async throws {
        let statement = FinishWorkflowRunsStatement(tenant: tenantID.rawValue, runs: try JSONText.encode(.array(finishes.map(FinishRow.json))))
        let found = try await connection.guardedExecute(statement, statements, logger: logger)
        guard found.count == Set(finishes.map(\.runID)).count else {
            throw SwitchyardError.internal("\(finishes.count - found.count) of \(finishes.count) workflow runs vanished")
        }
    }

    /// Creates the runs of events' jobs, each running at once (with its steps so far) when its workflow's and the
    /// tenant's limits of running and waiting runs leave room, counting the runs before it in `starts`, queued
    /// otherwise. Returns, by run id, whether each created run runs; a run that existed already (an earlier attempt
    /// created it) is left as it is and missing from the answer.
    public func startNewWorkflowRuns(_ starts: [NewWorkflowRunStart], tenantLimit: Int) async throws -> [UUID: Bool] {
        let document = try JSONText.encode(.array(starts.enumerated().map { StartRow.json($0.element, ord: $0.offset) }))
        let statement = StartNewWorkflowRunsStatement(tenant: tenantID.rawValue, runs: document, tenantLimit: tenantLimit)
        let rows = try await connection.guardedExecute(statement, statements, logger: logger)
        return Dictionary(rows.map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
    }

    /// Asks a run to stop: a queued or waiting run is cancelled at once (with its job), a running one at its next
    /// step boundary. Nil when there is no such run; 409 when it has finished.
    public func cancelWorkflowRun(_ id: UUID) async throws -> WorkflowRunRecord? {
        guard let run = try await workflowRun(id, locking: true) else { return nil }
        if run.status.isFinished { throw WorkflowStateConflict(detail: "The run is \(run.status.rawValue); only unfinished runs can be cancelled.") }
        let now = run.status == .queued || run.status == .waiting
        if now {
            try await query(
                """
                UPDATE jobs SET state = 'cancelled', finished_at = now(), updated_at = now()
                 WHERE tenant_id = \(tenantID.rawValue) AND id = \(run.jobID) AND state IN ('queued', 'failed')
                """
            )
        }
        return try await query(
            """
            UPDATE workflow_runs
               SET cancel_requested = true, updated_at = now(),
                   status = CASE WHEN \(now) THEN 'cancelled' ELSE status END,
                   finished_at = CASE WHEN \(now) THEN now() ELSE finished_at END
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
            RETURNING \(unescaped: WorkflowRunRecord.columns)
            """
        ).collect().first.map(WorkflowRunRecord.init(row:))
    }

    /// Resumes a failed run from its failed step, on its pinned version: the failed steps go back to pending with
    /// their attempts reset, and the run's job is queued again. Nil when there is no such run; 409 unless it failed.
    public func redriveWorkflowRun(_ id: UUID) async throws -> WorkflowRunRecord? {
        guard let run = try await workflowRun(id, locking: true) else { return nil }
        guard run.status == .failed else {
            throw WorkflowStateConflict(detail: "The run is \(run.status.rawValue); only failed runs can be redriven.")
        }
        try await reopenFailedWorkflowRun(id)
        guard try await retryJob(run.jobID) != nil else { throw SwitchyardError.internal("workflow run \(id.lowercasedString) has no job") }
        return try await workflowRun(id)
    }

    /// A failed run's failed steps back to pending (attempts reset) and the run running again.
    public func reopenFailedWorkflowRun(_ id: UUID) async throws {
        try await query(
            """
            UPDATE workflow_run_steps SET state = 'pending', attempts = 0, error = NULL, finished_at = NULL
             WHERE tenant_id = \(tenantID.rawValue) AND run_id = \(id) AND state = 'failed'
            """
        )
        try await query(
            """
            UPDATE workflow_runs SET status = 'running', error = NULL, finished_at = NULL, updated_at = now()
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) AND status = 'failed'
            """
        )
    }

    /// Whether the tenant has this integration (another tenant's id is invisible here, so it has not).
    public func integrationExists(_ id: UUID) async throws -> Bool {
        try await query("SELECT EXISTS (SELECT 1 FROM integrations WHERE tenant_id = \(tenantID.rawValue) AND id = \(id))")
            .decode(Bool.self).collect().first ?? false
    }

    /// Whether the tenant has this destination.
    public func destinationExists(_ id: UUID) async throws -> Bool {
        try await query("SELECT EXISTS (SELECT 1 FROM destinations WHERE tenant_id = \(tenantID.rawValue) AND id = \(id))")
            .decode(Bool.self).collect().first ?? false
    }

    /// Queues a delivery of a workflow's document to one destination, as a `workflow.deliver` event that is not
    /// recorded in `events` (the run is its record). Nil when there is no such destination.
    public func enqueueWorkflowDelivery(to destinationID: UUID, data: JSONValue) async throws -> (deliveryID: UUID, eventID: UUID)? {
        let rows = try await query(
            """
            INSERT INTO jobs (tenant_id, id, kind, payload, max_attempts, destination_id, event_id, ordering_key, ordering_seq)
            SELECT d.tenant_id, app_uuid_v7(), \(DestinationDeliveryPayload.kind),
                   jsonb_build_object('destination_id', d.id, 'event_id', e.id,
                                      'body', app_event_body(e.id, 'workflow.deliver', NULL, \(try JSONText.encode(data))::jsonb, now())),
                   \(DestinationDeliveryPayload.maxAttempts), d.id, e.id,
                   CASE WHEN d.ordered THEN d.id::text || '/' || CASE d.ordering_key WHEN 'event_type' THEN 'workflow.deliver' ELSE '' END END,
                   CASE WHEN d.ordered THEN nextval('jobs_ordering_seq') END
              FROM destinations d CROSS JOIN (SELECT app_uuid_v7() AS id) e
             WHERE d.tenant_id = \(tenantID.rawValue) AND d.id = \(destinationID)
            RETURNING id, event_id
            """
        ).decode((UUID, UUID).self).collect()
        return rows.first.map { (deliveryID: $0.0, eventID: $0.1) }
    }
}

extension TenantTransaction {
    /// Deletes the schedule named `name`, if there is one (a workflow's own schedule).
    public func deleteSchedule(named name: String) async throws {
        try await query("DELETE FROM job_schedules WHERE tenant_id = \(tenantID.rawValue) AND name = \(name)")
    }
}

extension QueueTransaction {
    /// Workflow runs running and waiting, across tenants (a metric).
    public func activeWorkflowRuns() async throws -> (running: Int, waiting: Int) {
        let rows = try await query(
            "SELECT running, waiting FROM app_count_active_workflow_runs()" as PostgresQuery
        ).decode((Int, Int).self).collect()
        return (rows.first?.0 ?? 0, rows.first?.1 ?? 0)
    }
}

// For the workflow benchmark (SwitchyardBenchmarks) and the tests: `package`, not part of what the module exposes.
extension TenantTransaction {
    /// How many of the tenant's workflow runs have `status`.
    package func countWorkflowRuns(status: WorkflowRunStatus) async throws -> Int {
        try await query("SELECT count(*)::int FROM workflow_runs WHERE tenant_id = \(tenantID.rawValue) AND status = \(status.rawValue)")
            .decode(Int.self).collect().first ?? 0
    }
}
