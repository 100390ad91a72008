-- Workflows (issue 16): a tenant's declarative workflows, their immutable numbered versions, and durable runs
-- with the state of every step. A run is executed by one `workflow.run` job (the job's id is kept on the run);
-- each step's state is written as the step finishes, so a run resumes after a crash at its first unfinished step.

-- A workflow: its name, whether triggers start it, and the version new runs pin. `trigger_event_types` copies the
-- event patterns of the active version's trigger (exact types, `prefix.*`, `*`), so that recording an event finds
-- the workflows it starts without reading their definitions.
CREATE TABLE workflows (
    tenant_id           uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                  uuid        NOT NULL,
    name                text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    enabled             boolean     NOT NULL DEFAULT true,
    active_version      int         NOT NULL CHECK (active_version >= 1),
    latest_version      int         NOT NULL CHECK (latest_version >= active_version),
    trigger_event_types text[]      NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

CREATE INDEX workflows_event_triggered ON workflows (tenant_id) WHERE enabled AND cardinality(trigger_event_types) > 0;

-- A published definition: never changed once written, so runs pinned to it always run what they started on.
CREATE TABLE workflow_versions (
    tenant_id   uuid        NOT NULL,
    workflow_id uuid        NOT NULL,
    version     int         NOT NULL CHECK (version >= 1),
    definition  jsonb       NOT NULL CHECK (jsonb_typeof(definition) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, workflow_id, version),
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id) ON DELETE CASCADE
);

-- A run. `status`: queued (its job has not started it), running, waiting (a delay or a sync it waits for: no
-- executor is held), then succeeded, failed (a step exhausted its retries: a dead letter until redriven), skipped
-- (a filter stopped it, or its trigger's condition was false) or cancelled. `cancel_requested` stops a running run
-- at its next step boundary. The idempotency key of a manual run is unique per workflow.
CREATE TABLE workflow_runs (
    tenant_id        uuid        NOT NULL,
    id               uuid        NOT NULL,
    workflow_id      uuid        NOT NULL,
    version          int         NOT NULL,
    job_id           uuid        NOT NULL,
    status           text        NOT NULL DEFAULT 'queued'
                                 CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled')),
    trigger          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    input            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    idempotency_key  text        CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    cancel_requested boolean     NOT NULL DEFAULT false,
    error            text        CHECK (length(error) <= 2000),
    steps_run        int         NOT NULL DEFAULT 0 CHECK (steps_run >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, workflow_id, version) REFERENCES workflow_versions (tenant_id, workflow_id, version) ON DELETE CASCADE,
    UNIQUE (tenant_id, workflow_id, idempotency_key)
);

CREATE INDEX workflow_runs_list ON workflow_runs (tenant_id, id);
CREATE INDEX workflow_runs_workflow ON workflow_runs (tenant_id, workflow_id, id);
CREATE INDEX workflow_runs_status ON workflow_runs (tenant_id, status, id);
-- The concurrency limits count these, per tenant and per workflow.
CREATE INDEX workflow_runs_active ON workflow_runs (tenant_id, workflow_id) WHERE status IN ('running', 'waiting');

-- One step of a run. `key` is the step's id, or for a step nested in a `for_each` the path to it
-- (`each/3/inner`); `position` orders them as they ran. `output` is capped by the engine: a larger one is stored
-- as a note of its size, and later steps see what is stored, whether or not the executor was restarted between.
-- `resume_at`: when a waiting step (delay) is due.
CREATE TABLE workflow_run_steps (
    tenant_id   uuid        NOT NULL,
    run_id      uuid        NOT NULL,
    key         text        NOT NULL CHECK (length(key) BETWEEN 1 AND 1000),
    position    int         NOT NULL,
    type        text        NOT NULL,
    state       text        NOT NULL DEFAULT 'pending'
                            CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'skipped')),
    input       jsonb,
    output      jsonb,
    error       text        CHECK (length(error) <= 2000),
    attempts    int         NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    resume_at   timestamptz,
    started_at  timestamptz,
    finished_at timestamptz,
    PRIMARY KEY (tenant_id, run_id, key),
    FOREIGN KEY (tenant_id, run_id) REFERENCES workflow_runs (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE workflows ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflows FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workflows
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

ALTER TABLE workflow_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workflow_versions
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

ALTER TABLE workflow_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workflow_runs
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

ALTER TABLE workflow_run_steps ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflow_run_steps FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON workflow_run_steps
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON workflows, workflow_runs, workflow_run_steps TO switchyard_app;
-- A version is never changed: the application may add and delete them (with their workflow), not update them.
GRANT SELECT, INSERT, DELETE ON workflow_versions TO switchyard_app;
