-- Usage per tenant, rolled up by the hour: each process counts in memory and adds what it counted here in one
-- statement every few seconds (`UsageFlusher`), so a busy tenant costs a few rows an hour, not a row per request.
-- `metric` names what was counted (`api.requests`, `webhooks.received`, ...); `dimension` splits it (a status
-- class, an outcome, a provider and status class), '' when it has none.
--
-- No foreign key to tenants: the writer adds many tenants' counts in one statement and cannot see tenants; the counts
-- of a deleted tenant are kept until retention removes them, as usage that happened.
CREATE FUNCTION app_is_usage_writer() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('app.usage', true), '') = 'on' $$;

CREATE TABLE usage_counters (
    tenant_id uuid        NOT NULL,
    bucket    timestamptz NOT NULL CHECK (extract(epoch FROM bucket)::bigint % 3600 = 0),
    metric    text        NOT NULL CHECK (metric ~ '^[a-z_]+(\.[a-z_]+)*$'),
    dimension text        NOT NULL DEFAULT '' CHECK (length(dimension) <= 200),
    value     bigint      NOT NULL CHECK (value >= 0),
    PRIMARY KEY (tenant_id, bucket, metric, dimension)
);

-- Retention deletes by age across tenants; the operator's summary reads a time range across tenants.
CREATE INDEX usage_counters_bucket ON usage_counters (bucket);

ALTER TABLE usage_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_counters FORCE ROW LEVEL SECURITY;
-- Tenants and the operator read; only the writer (app.usage) adds and prunes.
CREATE POLICY tenant_reads ON usage_counters FOR SELECT USING (tenant_id = app_current_tenant() OR app_is_operator());
CREATE POLICY usage_writer ON usage_counters USING (app_is_usage_writer()) WITH CHECK (app_is_usage_writer());

GRANT SELECT, INSERT, UPDATE, DELETE ON usage_counters TO switchyard_app;
