-- Each tenant's data keys (REQUIREMENTS EN-1..EN-5), stored only wrapped by a key-encryption key.
-- One key is active (new secrets are sealed with it); a retiring key still opens the secrets sealed
-- with it until they are re-sealed in the background, and is then deleted. Deleting the tenant
-- deletes its keys in the same statement, which is what makes its ciphertexts unreadable.
CREATE TABLE tenant_data_keys (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid        NOT NULL,
    wrapped_key  bytea       NOT NULL,
    kek_id       text        NOT NULL,
    kek_version  int         NOT NULL,
    algorithm    text        NOT NULL DEFAULT 'AES-256-GCM' CHECK (algorithm = 'AES-256-GCM'),
    state        text        NOT NULL CHECK (state IN ('active', 'retiring')),
    -- Secrets sealed with this key so far: random 96-bit nonces allow at most 2^32 (NIST SP 800-38D 8.3).
    encryptions  bigint      NOT NULL DEFAULT 0 CHECK (encryptions >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    retired_at   timestamptz,
    PRIMARY KEY (tenant_id, id)
);

CREATE UNIQUE INDEX tenant_data_keys_one_active ON tenant_data_keys (tenant_id) WHERE state = 'active';
CREATE INDEX tenant_data_keys_kek ON tenant_data_keys (kek_id, kek_version);
CREATE INDEX tenant_data_keys_retiring ON tenant_data_keys (tenant_id) WHERE state = 'retiring';

ALTER TABLE tenant_data_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_data_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_data_keys
    USING (tenant_id = app_current_tenant() OR app_is_operator())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_operator());

GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_data_keys TO switchyard_app;
