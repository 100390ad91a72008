-- OAuth client credentials: a tenant's own app per provider, and the platform operator's default
-- per provider that tenants without their own fall back to. Client secrets are sealed.
CREATE TABLE oauth_apps (
    tenant_id     uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid        NOT NULL,
    provider      text        NOT NULL CHECK (provider ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    client_id     text        NOT NULL CHECK (length(client_id) BETWEEN 1 AND 500),
    client_secret bytea       NOT NULL,
    dek_id        uuid        NOT NULL,
    scopes        text[],
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, provider),
    FOREIGN KEY (tenant_id, dek_id) REFERENCES tenant_data_keys (tenant_id, id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX oauth_apps_dek ON oauth_apps (tenant_id, dek_id);

ALTER TABLE oauth_apps ENABLE ROW LEVEL SECURITY;
ALTER TABLE oauth_apps FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON oauth_apps
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

-- The operator's defaults belong to no tenant: each secret is sealed under a data key of its own,
-- stored wrapped in the row (so `keys rewrap` moves it like any tenant's key).
CREATE TABLE platform_oauth_apps (
    provider      text        PRIMARY KEY CHECK (provider ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    id            uuid        NOT NULL UNIQUE,
    client_id     text        NOT NULL CHECK (length(client_id) BETWEEN 1 AND 500),
    client_secret bytea       NOT NULL,
    wrapped_key   bytea       NOT NULL,
    kek_id        text        NOT NULL,
    kek_version   int         NOT NULL,
    scopes        text[],
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE platform_oauth_apps ENABLE ROW LEVEL SECURITY;
ALTER TABLE platform_oauth_apps FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON platform_oauth_apps
    USING (app_is_operator())
    WITH CHECK (app_is_operator());

GRANT SELECT, INSERT, UPDATE, DELETE ON oauth_apps, platform_oauth_apps TO switchyard_app;
