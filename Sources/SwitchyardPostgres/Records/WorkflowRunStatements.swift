import Foundation
import PostgresNIO
import SwitchyardCore

// The run engine's writes, prepared once per connection (`StatementPreparation`): every step of every run goes
// through them, and planning their CTEs cost about as much as running them (`bench workflow`, pg_stat_statements).
// Every parameter is cast, so that the server infers each one's type whatever the bindings say (a `nil` goes as an
// untyped NULL); documents go as text and are parsed by `::jsonb`.

/// Inserts (or replaces) steps' rows: for each row of `source`, the elements of its document `steps` (one JSON
/// document of rows: postgres-nio binds no NULL array elements, and most of these columns are NULL) for its run
/// `run_id`. `$1` is the tenant. Every write of the run engine goes through this one text.
private func insertStepRows(from source: String) -> String {
    """
    INSERT INTO workflow_run_steps (tenant_id, run_id, key, position, type, state, input, output, error, attempts, resume_at, started_at, finished_at)
    SELECT $1::uuid, src.run_id, s.key, s.position, s.type, s.state, s.input, s.output, s.error, s.attempts,
           to_timestamp(s.resume_at), to_timestamp(s.started_at), to_timestamp(s.finished_at)
      FROM \(source) src CROSS JOIN LATERAL jsonb_to_recordset(src.steps)
           AS s(key text, position int, type text, state text, input jsonb, output jsonb, error text, attempts int,
                resume_at float8, started_at float8, finished_at float8)
    ON CONFLICT (tenant_id, run_id, key) DO UPDATE
       SET state = excluded.state, input = excluded.input, output = excluded.output, error = excluded.error,
           attempts = excluded.attempts, resume_at = excluded.resume_at, started_at = excluded.started_at,
           finished_at = excluded.finished_at
    """
}

/// Creates the runs of events' jobs (the document `$2`, in its order), each running at once when fewer than its
/// workflow's and the tenant's (`$3`) limits of runs are running or waiting, counting the runs before it in the
/// document, and queued otherwise; with a running run, its steps so far and its step count. A run that exists (an
/// earlier attempt made it) is left as it is and not returned. The limits are soft: runs starting in two
/// transactions at the same instant may each see room. One pass over the tenant's active runs (the partial index
/// `workflow_runs_active`) counts for all, and stops at the tenant's limit: with a hundred runs active, counting
/// them was most of a run's start. The trigger comes in the document: read from the run's job instead, it was
/// looked up through whichever index of `jobs` starts with the tenant (the queue's policy hides the tenant's
/// selectivity from the planner), a scan of the tenant's running jobs for each run (`auto_explain`).
struct StartNewWorkflowRunsStatement: PostgresPreparedStatement {
    static let name = "switchyard_start_new_workflow_runs_v2"
    static let sql = """
        WITH input AS (
            SELECT * FROM jsonb_to_recordset($2::text::jsonb)
                AS r(ord int, id uuid, workflow_id uuid, version int, job_id uuid, trigger jsonb, input jsonb,
                     workflow_limit int8, steps_run int, steps jsonb)
        ), active AS (
            SELECT workflow_id FROM workflow_runs
             WHERE tenant_id = $1::uuid AND status IN ('running', 'waiting')
             LIMIT $3::int8
        ), per_workflow AS (
            SELECT workflow_id, count(*) AS n FROM active GROUP BY workflow_id
        ), decided AS (
            SELECT i.*,
                   coalesce(p.n, 0) + row_number() OVER (PARTITION BY i.workflow_id ORDER BY i.ord) <= i.workflow_limit
                   AND (SELECT count(*) FROM active) + row_number() OVER (ORDER BY i.ord) <= $3::int8 AS free
              FROM input i LEFT JOIN per_workflow p ON p.workflow_id = i.workflow_id
        ), inserted AS (
            INSERT INTO workflow_runs (tenant_id, id, workflow_id, version, job_id, trigger, input, status, started_at, steps_run)
            SELECT $1::uuid, id, workflow_id, version, job_id,
                   trigger, input,
                   CASE WHEN free THEN 'running' ELSE 'queued' END, CASE WHEN free THEN now() END, CASE WHEN free THEN steps_run ELSE 0 END
              FROM decided ORDER BY ord
            ON CONFLICT DO NOTHING
            RETURNING id, status = 'running' AS running
        ), s AS (
            \(insertStepRows(from: "(SELECT d.id AS run_id, d.steps FROM inserted JOIN decided d ON d.id = inserted.id AND inserted.running)"))
        )
        SELECT id, running FROM inserted
        """

    let tenant: UUID
    let runs: String
    let tenantLimit: Int

    func makeBindings() throws -> PostgresBindings { try bindings(tenant, runs, Int64(tenantLimit)) }
    func decodeRow(_ row: PostgresRow) throws -> (UUID, Bool) { try row.decode((UUID, Bool).self) }
}

/// A run to create as one element of `StartNewWorkflowRunsStatement`'s document.
enum StartRow {
    static func json(_ start: NewWorkflowRunStart, ord: Int) -> JSONValue {
        .object([
            "ord": .number(Double(ord)),
            "id": .string(start.run.id.lowercasedString),
            "workflow_id": .string(start.run.workflowID.lowercasedString),
            "version": .number(Double(start.run.version)),
            "job_id": .string(start.run.jobID.lowercasedString),
            "trigger": start.run.trigger,
            "input": start.run.input,
            "workflow_limit": .number(Double(start.workflowLimit)),
            "steps_run": .number(Double(start.stepsRun)),
            "steps": .array(start.steps.map(StepRow.json)),
        ])
    }
}

/// Writes steps' rows and the run's step count, and its status when `$4` is not NULL; returns whether a cancel has
/// been asked for.
struct SaveWorkflowProgressStatement: PostgresPreparedStatement {
    static let name = "switchyard_save_workflow_progress_v1"
    static let sql = """
        WITH s AS (
            \(insertStepRows(from: "(SELECT $2::uuid AS run_id, $3::text::jsonb AS steps)"))
        )
        UPDATE workflow_runs
           SET status = coalesce($4::text, status), error = CASE WHEN $4::text IS NULL THEN error END, steps_run = $5::int4,
               updated_at = now()
         WHERE tenant_id = $1::uuid AND id = $2::uuid
        RETURNING cancel_requested
        """

    let tenant: UUID
    let runID: UUID
    let steps: String
    let status: WorkflowRunStatus?
    let stepsRun: Int

    func makeBindings() throws -> PostgresBindings {
        try bindings(tenant, runID, steps, status?.rawValue, Int32(clamping: stepsRun))
    }

    func decodeRow(_ row: PostgresRow) throws -> Bool { try row.decode(Bool.self) }
}

/// Ends runs: for each element of the document `$2`, its last steps' rows, its final status, error and step count,
/// and its event when it has one, in one statement. Returns the ids of the runs it found. The runs are also named as
/// an array so that the primary key's index finds each one: joined only, while the tenant's runs were new to the
/// statistics, the planner hashed every run of the tenant for each batch (`auto_explain` on `bench workflow`).
struct FinishWorkflowRunsStatement: PostgresPreparedStatement {
    static let name = "switchyard_finish_workflow_runs_v1"
    static let sql = """
        WITH runs AS (
            SELECT * FROM jsonb_to_recordset($2::text::jsonb)
                AS r(run_id uuid, status text, error text, steps_run int, event_id uuid, event_type text, event_data jsonb, steps jsonb)
        ), s AS (
            \(insertStepRows(from: "runs"))
        ), r AS (
            UPDATE workflow_runs w
               SET status = runs.status, error = runs.error, steps_run = runs.steps_run, finished_at = now(), updated_at = now()
              FROM runs
             WHERE w.tenant_id = $1::uuid AND w.id = runs.run_id AND w.id = ANY (ARRAY(SELECT run_id FROM runs))
            RETURNING w.id
        ), e AS (
            INSERT INTO events (tenant_id, id, type, integration_id, data)
            SELECT $1::uuid, runs.event_id, runs.event_type, NULL, runs.event_data
              FROM runs JOIN r ON r.id = runs.run_id
             WHERE runs.event_id IS NOT NULL
             ORDER BY runs.event_id
        )
        SELECT id FROM r
        """

    let tenant: UUID
    let runs: String

    func makeBindings() throws -> PostgresBindings { try bindings(tenant, runs) }
    func decodeRow(_ row: PostgresRow) throws -> UUID { try row.decode(UUID.self) }
}

/// A run's end as one element of `FinishWorkflowRunsStatement`'s document.
enum FinishRow {
    static func json(_ finish: WorkflowRunFinish) -> JSONValue {
        var members: [String: JSONValue] = [
            "run_id": .string(finish.runID.lowercasedString),
            "status": .string(finish.status.rawValue),
            "steps_run": .number(Double(finish.stepsRun)),
            "steps": .array(finish.steps.map(StepRow.json)),
        ]
        if let error = finish.error { members["error"] = .string(error) }
        if let event = finish.event {
            members["event_id"] = .string(event.id.lowercasedString)
            members["event_type"] = .string(event.type)
            members["event_data"] = .object(event.data)
        }
        return .object(members)
    }
}

/// A step write as one element of the JSON documents the statements read rows from (times as Unix seconds; a
/// missing member is NULL).
enum StepRow {
    static func json(_ write: WorkflowStepWrite) -> JSONValue {
        var members: [String: JSONValue] = [
            "key": .string(write.key),
            "position": .number(Double(write.position)),
            "type": .string(write.type),
            "state": .string(write.state.rawValue),
            "attempts": .number(Double(write.attempts)),
        ]
        if let input = write.input { members["input"] = input }
        if let output = write.output { members["output"] = output }
        if let error = write.error { members["error"] = .string(error) }
        if let resumeAt = write.resumeAt { members["resume_at"] = .number(resumeAt.timeIntervalSince1970) }
        if let startedAt = write.startedAt { members["started_at"] = .number(startedAt.timeIntervalSince1970) }
        if let finishedAt = write.finishedAt { members["finished_at"] = .number(finishedAt.timeIntervalSince1970) }
        return .object(members)
    }
}
