-- The durable job queue (issue 5). Tenants read and change their own jobs through row-level
-- security like any other table; executors and schedulers claim across tenants inside
-- `Database.withQueue`, which sets `app.queue = on` for one transaction and reaches only the
-- tables whose policies name `app_is_queue()`: jobs and job_schedules.
CREATE FUNCTION app_is_queue() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('app.queue', true), '') = 'on' $$;

-- One unit of background work. `state` moves queued -> running -> succeeded | failed | dead, and
-- failed -> running again when its `run_at` comes (failed means "the last attempt failed, a retry
-- is scheduled"); queued and failed jobs can be cancelled. `history` holds one object per finished
-- attempt (outcome, error, times), appended by the same statement that finishes the attempt.
CREATE TABLE jobs (
    tenant_id        uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               uuid        NOT NULL,
    kind             text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    payload          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    payload_version  int         NOT NULL DEFAULT 1 CHECK (payload_version >= 1),
    integration_id   uuid,
    state            text        NOT NULL DEFAULT 'queued'
                                 CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled')),
    priority         smallint    NOT NULL DEFAULT 0,
    run_at           timestamptz NOT NULL DEFAULT now(),
    attempts         int         NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     int         NOT NULL DEFAULT 10 CHECK (max_attempts BETWEEN 1 AND 100),
    lease_owner      text,
    lease_expires_at timestamptz,
    last_error       text,
    unique_key       text        CHECK (length(unique_key) BETWEEN 1 AND 200),
    schedule_id      uuid,
    fire_time        timestamptz,
    history          jsonb       NOT NULL DEFAULT '[]'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CHECK ((schedule_id IS NULL) = (fire_time IS NULL))
);

-- Claiming walks the tenants that have due work (a skip scan over the leading column) and takes
-- each one's next jobs in (priority, run_at) order. Only waiting jobs are in it, so it stays small
-- however many finished jobs the table holds.
CREATE INDEX jobs_ready ON jobs (tenant_id, priority, run_at) WHERE state IN ('queued', 'failed');
-- Running jobs: per-tenant concurrency counts, heartbeats and lease rescue.
CREATE INDEX jobs_running ON jobs (tenant_id, lease_expires_at) WHERE state = 'running';
-- At most one active job per (tenant, kind, unique key); finished jobs free the key.
CREATE UNIQUE INDEX jobs_unique_active ON jobs (tenant_id, kind, unique_key)
    WHERE unique_key IS NOT NULL AND state IN ('queued', 'running', 'failed');
-- A schedule fires once per fire time, whatever number of schedulers run (REQUIREMENTS RL-5).
CREATE UNIQUE INDEX jobs_schedule_fire ON jobs (tenant_id, schedule_id, fire_time) WHERE schedule_id IS NOT NULL;
-- Retention pruning of finished jobs.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state IN ('succeeded', 'cancelled', 'dead');
-- The API's filters.
CREATE INDEX jobs_tenant_state ON jobs (tenant_id, state, id);
CREATE INDEX jobs_tenant_integration ON jobs (tenant_id, integration_id, id) WHERE integration_id IS NOT NULL;

-- Executors sleep on LISTEN and wake on this; polling covers a lost notification or PgBouncer.
-- One notification per inserting statement (identical payloads in a transaction are folded).
CREATE FUNCTION jobs_notify_inserted() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN PERFORM pg_notify('switchyard_jobs', ''); RETURN NULL; END $$;
CREATE TRIGGER jobs_inserted AFTER INSERT ON jobs FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify_inserted();

-- A tenant's recurring job: a fixed interval or a five-field cron expression (UTC), with up to
-- `jitter_seconds` of random delay added to each fire. `next_fire_at` advances in the same
-- transaction that inserts the fire's job.
CREATE TABLE job_schedules (
    tenant_id        uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id               uuid        NOT NULL,
    name             text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind             text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    payload          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    payload_version  int         NOT NULL DEFAULT 1 CHECK (payload_version >= 1),
    integration_id   uuid,
    interval_seconds int         CHECK (interval_seconds BETWEEN 1 AND 31622400),
    cron             text        CHECK (length(cron) BETWEEN 9 AND 200),
    jitter_seconds   int         NOT NULL DEFAULT 0 CHECK (jitter_seconds BETWEEN 0 AND 86400),
    max_attempts     int         NOT NULL DEFAULT 10 CHECK (max_attempts BETWEEN 1 AND 100),
    paused           boolean     NOT NULL DEFAULT false,
    next_fire_at     timestamptz NOT NULL,
    last_fired_at    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name),
    CHECK ((interval_seconds IS NULL) <> (cron IS NULL))
);

CREATE INDEX job_schedules_due ON job_schedules (next_fire_at) WHERE NOT paused;

ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON jobs
    USING (tenant_id = app_current_tenant() OR app_is_queue())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_queue());

ALTER TABLE job_schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE job_schedules FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON job_schedules
    USING (tenant_id = app_current_tenant() OR app_is_queue())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_queue());

GRANT SELECT, INSERT, UPDATE, DELETE ON jobs, job_schedules TO switchyard_app;
