-- Syncs (issue: syncs): definitions a tenant writes for its providers, each integration's state of a sync, and
-- the log of runs.

-- A tenant's own sync definitions (the built-in ones ship in the binary). The definition is the JSON document
-- `GET /v1/providers/{id}/syncs` shows, validated by the API; `version` grows by one at every change, and a run
-- records the version it ran.
CREATE TABLE sync_definitions (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider   text        NOT NULL CHECK (provider ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name       text        NOT NULL CHECK (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
    version    int         NOT NULL DEFAULT 1 CHECK (version >= 1),
    definition jsonb       NOT NULL CHECK (jsonb_typeof(definition) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, provider, name)
);

-- One integration's use of one sync: whether it runs, how often, where the last completed run left the
-- provider's change cursor (`checkpoint`, the greatest last-modified value seen), and when it is due. A reset
-- forgets the checkpoint at `checkpoint_reset_at`; a run started before that does not bring it back.
CREATE TABLE integration_syncs (
    tenant_id         uuid        NOT NULL,
    integration_id    uuid        NOT NULL,
    sync_name         text        NOT NULL CHECK (sync_name ~ '^[a-z][a-z0-9_-]{0,62}$'),
    enabled           boolean     NOT NULL DEFAULT true,
    frequency_seconds int         CHECK (frequency_seconds BETWEEN 60 AND 2678400),
    paused            boolean     NOT NULL DEFAULT false,
    checkpoint        jsonb,
    checkpoint_reset_at timestamptz,
    next_run_at       timestamptz NOT NULL DEFAULT now(),
    last_run_id       uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, integration_id, sync_name),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX integration_syncs_due ON integration_syncs (next_run_at) WHERE enabled AND NOT paused;

-- One run of a sync. Its id is the id of the `sync.run` job that carries it, so every attempt of that job
-- continues the same run. `position` is where the next page starts (a cursor, a URL, an offset or a page
-- number) and `pages` how many pages are committed: both move in the transaction that writes a page, so an
-- executor killed mid-run resumes at the first uncommitted page, and a page is never written twice.
CREATE TABLE sync_runs (
    tenant_id          uuid        NOT NULL,
    id                 uuid        NOT NULL,
    integration_id     uuid        NOT NULL,
    sync_name          text        NOT NULL,
    model              text        NOT NULL,
    definition_version int         NOT NULL,
    mode               text        NOT NULL CHECK (mode IN ('full', 'incremental')),
    trigger            text        NOT NULL CHECK (trigger IN ('schedule', 'api', 'reset', 'webhook')),
    status             text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    position           jsonb,
    pages              int         NOT NULL DEFAULT 0,
    added              int         NOT NULL DEFAULT 0,
    updated            int         NOT NULL DEFAULT 0,
    unchanged          int         NOT NULL DEFAULT 0,
    deleted            int         NOT NULL DEFAULT 0,
    since              jsonb,
    checkpoint         jsonb,
    error              text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    started_at         timestamptz,
    finished_at        timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX sync_runs_by_sync ON sync_runs (tenant_id, integration_id, sync_name, id);

-- The external ids a full run has seen, one row per committed page. When the run completes, the records of
-- its model that no page named are marked deleted; the rows go with the run's end.
CREATE TABLE sync_run_pages (
    tenant_id    uuid   NOT NULL,
    run_id       uuid   NOT NULL,
    page         int    NOT NULL,
    external_ids text[] NOT NULL,
    PRIMARY KEY (tenant_id, run_id, page),
    FOREIGN KEY (tenant_id, run_id) REFERENCES sync_runs (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE sync_definitions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_definitions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sync_definitions
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

-- The scheduler (queue mode) finds due syncs and records their runs beside their jobs.
ALTER TABLE integration_syncs ENABLE ROW LEVEL SECURITY;
ALTER TABLE integration_syncs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON integration_syncs
    USING (tenant_id = app_current_tenant() OR app_is_queue())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_queue());

ALTER TABLE sync_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sync_runs
    USING (tenant_id = app_current_tenant() OR app_is_queue())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_queue());

ALTER TABLE sync_run_pages ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_run_pages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sync_run_pages
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

-- The scheduler fires only syncs of connected integrations: a connection lost (needs_reauth) pauses its
-- syncs, and reconnecting resumes them, without either path having to remember to.
CREATE POLICY queue_reads_status ON integrations FOR SELECT USING (app_is_queue());

GRANT SELECT, INSERT, UPDATE, DELETE ON sync_definitions, integration_syncs, sync_runs, sync_run_pages TO switchyard_app;

-- Deleted records are kept for a configurable time (the change feed shows the deletion), then the scheduler's
-- housekeeping (queue mode) removes them.
ALTER POLICY tenant_isolation ON sync_records
    USING (tenant_id = app_current_tenant() OR app_is_queue())
    WITH CHECK (tenant_id = app_current_tenant());
CREATE INDEX sync_records_deleted ON sync_records (deleted_at) WHERE deleted_at IS NOT NULL;
