-- OAuth connect (issue: OAuth connect). Connect sessions handed to end users, the server-side state of
-- every authorization request (REQUIREMENTS OA-1), the origins a tenant may send end users back to
-- (OA-3), and the tenant's event log that later workflows read.

-- Where `return_to` may point, as exact origins (`https://app.example.com`); empty means nowhere.
ALTER TABLE tenants ADD COLUMN connect_return_origins text[] NOT NULL DEFAULT '{}'
    CHECK (cardinality(connect_return_origins) <= 20);

-- A short-lived link an end user opens to connect an account. Only the token's SHA-256 is kept; the
-- token itself is shown once, to the tenant that created the session.
CREATE TABLE connect_sessions (
    tenant_id             uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                    uuid        NOT NULL,
    token_hash            bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    allowed_providers     text[]      NOT NULL CHECK (cardinality(allowed_providers) BETWEEN 1 AND 50),
    integration_id        uuid,
    end_user_id           text        CHECK (length(end_user_id) BETWEEN 1 AND 200),
    tags                  text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50),
    extra_scopes          text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(extra_scopes) <= 50),
    connection_parameters jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(connection_parameters) = 'object'),
    return_to             text        CHECK (length(return_to) <= 2000),
    expires_at            timestamptz NOT NULL,
    completed_at          timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX connect_sessions_expiry ON connect_sessions (tenant_id, expires_at);

-- One authorization request: single-use (used_at), expiring, bound to its tenant, provider (and
-- issuer, OA-4), connect session and, when started from the connect page, the browser that started it
-- (a cookie whose SHA-256 is browser_binding). The PKCE verifier is sealed like any secret.
CREATE TABLE oauth_states (
    tenant_id             uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                    uuid        NOT NULL,
    state_hash            bytea       NOT NULL UNIQUE CHECK (length(state_hash) = 32),
    provider              text        NOT NULL CHECK (provider ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    issuer                text,
    session_id            uuid,
    integration_id        uuid,
    browser_binding       bytea       CHECK (length(browser_binding) = 32),
    redirect_uri          text        NOT NULL,
    scopes                text[]      NOT NULL,
    connection_parameters jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(connection_parameters) = 'object'),
    end_user_id           text        CHECK (length(end_user_id) BETWEEN 1 AND 200),
    tags                  text[]      NOT NULL DEFAULT '{}',
    return_to             text,
    code_verifier         bytea,
    dek_id                uuid,
    expires_at            timestamptz NOT NULL,
    used_at               timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CHECK ((code_verifier IS NULL) = (dek_id IS NULL)),
    FOREIGN KEY (tenant_id, session_id) REFERENCES connect_sessions (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, dek_id) REFERENCES tenant_data_keys (tenant_id, id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX oauth_states_expiry ON oauth_states (tenant_id, expires_at);
CREATE INDEX oauth_states_dek ON oauth_states (tenant_id, dek_id) WHERE dek_id IS NOT NULL;

-- The public connect page and the OAuth callback find their row by token or state hash before they know
-- the tenant, through the operator's view; every other access is the tenant's own.
ALTER TABLE connect_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE connect_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON connect_sessions
    USING (tenant_id = app_current_tenant() OR app_is_operator())
    WITH CHECK (tenant_id = app_current_tenant());

ALTER TABLE oauth_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE oauth_states FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON oauth_states
    USING (tenant_id = app_current_tenant() OR app_is_operator())
    WITH CHECK (tenant_id = app_current_tenant());

-- What happened to a tenant's integrations (`integration.connected`, `integration.needs_reauth`, ...),
-- for the tenant to read and for workflows to react to. Append-only for the application.
CREATE TABLE events (
    tenant_id      uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             uuid        NOT NULL,
    type           text        NOT NULL CHECK (type ~ '^[a-z_]+(\.[a-z_]+)+$'),
    integration_id uuid,
    data           jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(data) = 'object'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX events_type ON events (tenant_id, type, id);

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON events
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON connect_sessions, oauth_states TO switchyard_app;
GRANT SELECT, INSERT ON events TO switchyard_app;
