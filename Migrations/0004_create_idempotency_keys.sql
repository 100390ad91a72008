-- Responses remembered for `Idempotency-Key` (REQUIREMENTS API-6). tenant_id is NULL for the
-- platform operator's own requests (creating tenants).
CREATE TABLE idempotency_keys (
    tenant_id        uuid        REFERENCES tenants (id) ON DELETE CASCADE,
    idempotency_key  text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_hash     bytea       NOT NULL,
    state            text        NOT NULL CHECK (state IN ('in_progress', 'completed')),
    response_status  int,
    response_headers jsonb,
    response_body    bytea,
    locked_at        timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL
);

CREATE UNIQUE INDEX idempotency_keys_scope_key
    ON idempotency_keys ((coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid)), idempotency_key);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys
    USING (tenant_id = app_current_tenant() OR (tenant_id IS NULL AND app_is_operator()))
    WITH CHECK (tenant_id = app_current_tenant() OR (tenant_id IS NULL AND app_is_operator()));

GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO switchyard_app;
