-- A tenant's connection to one account at a provider, and its credential (sealed, REQUIREMENTS EN-1).
CREATE TABLE integrations (
    tenant_id             uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                    uuid        NOT NULL,
    provider              text        NOT NULL CHECK (provider ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    display_name          text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    auth_type             text        NOT NULL CHECK (auth_type IN ('oauth2', 'api_key', 'basic')),
    status                text        NOT NULL CHECK (status IN ('pending', 'connected', 'needs_reauth', 'disconnected', 'error')),
    connection_parameters jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(connection_parameters) = 'object'),
    end_user_id           text        CHECK (length(end_user_id) BETWEEN 1 AND 200),
    tags                  text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50),
    health                jsonb,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX integrations_provider ON integrations (tenant_id, provider, id);
CREATE INDEX integrations_status ON integrations (tenant_id, status, id);
CREATE INDEX integrations_tags ON integrations USING gin (tags);

-- The usable credential of an integration as one sealed JSON document (API key, basic pair, or
-- OAuth tokens). dek_id names the data key that sealed it; the foreign key keeps that key alive.
-- It is checked at commit, because deleting a tenant removes its keys and its credentials through
-- separate cascades whose order within the statement PostgreSQL does not promise.
CREATE TABLE integration_credentials (
    tenant_id      uuid        NOT NULL,
    integration_id uuid        NOT NULL,
    secret         bytea       NOT NULL,
    dek_id         uuid        NOT NULL,
    expires_at     timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, integration_id),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, dek_id) REFERENCES tenant_data_keys (tenant_id, id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX integration_credentials_dek ON integration_credentials (tenant_id, dek_id);

ALTER TABLE integrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE integrations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON integrations
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

ALTER TABLE integration_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE integration_credentials FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON integration_credentials
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON integrations, integration_credentials TO switchyard_app;
