-- A provider account's quota, as its rate-limit headers announce it, shared by every process that calls the provider
-- for that account (issue 18): `serve` and every `executor` spend one quota together instead of one each. A process
-- leases a few tokens at a time from the row (`SharedProviderQuota` in SwitchyardOutbound) and sends from memory until
-- they are spent, so a busy account costs a statement per lease, not one per request.
--
-- `remaining` is what may still be sent before `window_ends_at`: set from an announcement when a window starts, then
-- only lowered (by leases, and by later announcements that show spending elsewhere). `blocked_until` is a 429's
-- Retry-After: every process waits it out. A row past both instants means the same as no row, so the scheduler deletes
-- those whenever it likes. `limiter_key` is the outbound request's key (an integration id, `destination:<id>`).
--
-- The limiter's own mode (app.rate_limiter, migration 0033) reads and writes the rows: it is the same machinery,
-- limiting requests without seeing any tenant's data. No foreign key: the limiter writes without seeing integrations,
-- and a deleted integration's row expires with its window. Pages keep room, as for rate_limit_buckets: a lease is a
-- HOT update of a hot row.
CREATE TABLE provider_quotas (
    tenant_id      uuid        NOT NULL,
    limiter_key    text        NOT NULL CHECK (length(limiter_key) BETWEEN 1 AND 200),
    remaining      integer     NOT NULL CHECK (remaining >= 0),
    window_ends_at timestamptz NOT NULL,
    blocked_until  timestamptz,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, limiter_key)
) WITH (fillfactor = 50);

ALTER TABLE provider_quotas ENABLE ROW LEVEL SECURITY;
ALTER TABLE provider_quotas FORCE ROW LEVEL SECURITY;
-- Only the limiter (app.rate_limiter) leases, blocks and prunes; tenants and the operator have no use for the rows.
CREATE POLICY rate_limiter ON provider_quotas USING (app_is_rate_limiter()) WITH CHECK (app_is_rate_limiter());

GRANT SELECT, INSERT, UPDATE, DELETE ON provider_quotas TO switchyard_app;
