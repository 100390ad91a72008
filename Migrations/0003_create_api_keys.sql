-- Tenant API keys (REQUIREMENTS AK-1). Only the SHA-256 of a key is stored, with a short display prefix.
CREATE TABLE api_keys (
    tenant_id       uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              uuid        NOT NULL,
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    display_prefix  text        NOT NULL,
    secret_hash     bytea       NOT NULL CHECK (length(secret_hash) = 32),
    scopes          text[]      NOT NULL CHECK (scopes <@ ARRAY['read', 'write']::text[] AND cardinality(scopes) > 0),
    created_by      text        NOT NULL,
    expires_at      timestamptz,
    revoked_at      timestamptz,
    last_used_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

-- Authentication looks a presented key up by its hash before it knows the tenant.
CREATE INDEX api_keys_secret_hash ON api_keys USING hash (secret_hash);

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
    USING (tenant_id = app_current_tenant() OR app_is_operator())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_operator());

GRANT SELECT, INSERT, UPDATE, DELETE ON api_keys TO switchyard_app;
