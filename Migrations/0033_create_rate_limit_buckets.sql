-- Per-key API rate limits shared by every `serve` process (issue 18). A process leases a few tokens at a time from
-- its key's row (`SharedRateLimiter`): one upsert refills the bucket by the time elapsed since it was last written and
-- takes the lease, so requests are answered from memory and a key at its full rate costs a process about 16
-- statements a second, not one per request.
--
-- `full_at` is when the bucket is full again; a row past it means the same as no row (a first lease starts from a
-- full bucket), so the scheduler deletes those rows whenever it likes. No foreign key to api_keys or tenants: the
-- limiter writes without seeing them, and a deleted key's row is full, then pruned, within burst/rate seconds.
--
-- Nothing indexes the columns a lease changes, and pages keep room: a lease is a HOT update of a hot row, not a new
-- index entry per lease. The prune reads the whole table, which holds one row per key used in the last minute or so.
CREATE FUNCTION app_is_rate_limiter() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('app.rate_limiter', true), '') = 'on' $$;

CREATE TABLE rate_limit_buckets (
    tenant_id  uuid             NOT NULL,
    api_key_id uuid             NOT NULL,
    tokens     double precision NOT NULL CHECK (tokens >= 0),
    -- What the last lease took (0 when the bucket held too little): RETURNING cannot see the row before the update.
    granted    integer          NOT NULL CHECK (granted >= 0),
    updated_at timestamptz      NOT NULL,
    full_at    timestamptz      NOT NULL,
    PRIMARY KEY (tenant_id, api_key_id)
) WITH (fillfactor = 50);

ALTER TABLE rate_limit_buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_limit_buckets FORCE ROW LEVEL SECURITY;
-- Only the limiter (app.rate_limiter) leases and prunes; tenants and the operator have no use for the rows.
CREATE POLICY rate_limiter ON rate_limit_buckets USING (app_is_rate_limiter()) WITH CHECK (app_is_rate_limiter());

GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limit_buckets TO switchyard_app;
