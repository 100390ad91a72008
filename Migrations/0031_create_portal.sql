-- The tenant portal. A tenant's backend asks for a one-time link (POST /v1/portal-sessions) and hands it to one of
-- its people; opening it starts a browser session for that tenant only. Only SHA-256 hashes of the link's token and of
-- the session cookie are kept: a database dump opens nothing.
CREATE TABLE portal_links (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         uuid        NOT NULL,
    token_hash bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    -- The API key (its display prefix) that asked for the link, for the audit trail.
    created_by text        NOT NULL CHECK (length(created_by) <= 100),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE portal_sessions (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         uuid        NOT NULL,
    token_hash bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    link_id    uuid        NOT NULL,
    expires_at timestamptz NOT NULL,
    ended_at   timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, link_id) REFERENCES portal_links (tenant_id, id) ON DELETE CASCADE
);

-- A tenant's links (and with them their sessions, which last at most a day) are deleted a day after they expire,
-- when the tenant asks for a new one.
CREATE INDEX portal_links_expiry ON portal_links (tenant_id, expires_at);

-- A link or a cookie names no tenant: the operator view finds which tenant it belongs to (as for connect tokens),
-- everything after that runs as the tenant.
ALTER TABLE portal_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal_links FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON portal_links
    USING (tenant_id = app_current_tenant() OR app_is_operator())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_operator());
ALTER TABLE portal_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE portal_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON portal_sessions
    USING (tenant_id = app_current_tenant() OR app_is_operator())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_operator());

GRANT SELECT, INSERT, UPDATE, DELETE ON portal_links, portal_sessions TO switchyard_app;
