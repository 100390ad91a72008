-- Every row of a tenant table is keyed by its tenant (issue 18, deploy/SCALING.md): tenant_id is NOT NULL and
-- part of every primary key, unique constraint and foreign key, so the schema can be distributed by tenant_id
-- (Citus) and TenantKeyCatalogTests keeps it so.
--
-- The platform operator's own audit events and idempotency keys had tenant_id NULL in the tenants' tables; they
-- move to tables of their own that only the operator reads. Tokens looked up before the tenant is known (connect
-- sessions, OAuth states, portal links and sessions, webhook sources by the id in their URL) keep an index on the
-- hash or id but no longer a constraint across tenants: they are 256-bit random (v4 for source ids), so two equal
-- values are not a case to guard against with a global index.

-- The table owner bypasses row-level security only when it is not forced: the NULL rows are moved below.
ALTER TABLE audit_events NO FORCE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys NO FORCE ROW LEVEL SECURITY;

CREATE TABLE platform_audit_events (
    id            uuid        NOT NULL PRIMARY KEY,
    actor         text        NOT NULL CHECK (length(actor) BETWEEN 1 AND 100),
    action        text        NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    resource_type text        NOT NULL,
    resource_id   text,
    request_id    text,
    details       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE platform_audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE platform_audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON platform_audit_events USING (app_is_operator()) WITH CHECK (app_is_operator());
-- Append-only for the application, as audit_events.
GRANT SELECT, INSERT ON platform_audit_events TO switchyard_app;

INSERT INTO platform_audit_events (id, actor, action, resource_type, resource_id, request_id, details, created_at)
SELECT id, actor, action, resource_type, resource_id, request_id, details, created_at FROM audit_events WHERE tenant_id IS NULL;
DELETE FROM audit_events WHERE tenant_id IS NULL;

ALTER TABLE audit_events ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_pkey;
ALTER TABLE audit_events ADD PRIMARY KEY (tenant_id, id);
-- The primary key serves the newest-first listing (read backwards).
DROP INDEX audit_events_tenant;
DROP POLICY tenant_isolation ON audit_events;
CREATE POLICY tenant_isolation ON audit_events
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

CREATE TABLE platform_idempotency_keys (
    idempotency_key  text        NOT NULL PRIMARY KEY CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_hash     bytea       NOT NULL,
    state            text        NOT NULL CHECK (state IN ('in_progress', 'completed')),
    response_status  int,
    response_headers jsonb,
    response_body    bytea,
    locked_at        timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL
);
CREATE INDEX platform_idempotency_keys_expires_at ON platform_idempotency_keys (expires_at);
ALTER TABLE platform_idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE platform_idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY operator_only ON platform_idempotency_keys USING (app_is_operator()) WITH CHECK (app_is_operator());
GRANT SELECT, INSERT, UPDATE, DELETE ON platform_idempotency_keys TO switchyard_app;

INSERT INTO platform_idempotency_keys
    (idempotency_key, request_hash, state, response_status, response_headers, response_body, locked_at, created_at, expires_at)
SELECT idempotency_key, request_hash, state, response_status, response_headers, response_body, locked_at, created_at, expires_at
  FROM idempotency_keys WHERE tenant_id IS NULL;
DELETE FROM idempotency_keys WHERE tenant_id IS NULL;

ALTER TABLE idempotency_keys ALTER COLUMN tenant_id SET NOT NULL;
DROP INDEX idempotency_keys_scope_key;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (tenant_id, idempotency_key);
DROP POLICY tenant_isolation ON idempotency_keys;
CREATE POLICY tenant_isolation ON idempotency_keys
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;

-- Lookups by token or state hash, before the tenant is known.
ALTER TABLE connect_sessions DROP CONSTRAINT connect_sessions_token_hash_key;
CREATE INDEX connect_sessions_token_hash ON connect_sessions (token_hash);
ALTER TABLE oauth_states DROP CONSTRAINT oauth_states_state_hash_key;
CREATE INDEX oauth_states_state_hash ON oauth_states (state_hash);
ALTER TABLE portal_links DROP CONSTRAINT portal_links_token_hash_key;
CREATE INDEX portal_links_token_hash ON portal_links (token_hash);
ALTER TABLE portal_sessions DROP CONSTRAINT portal_sessions_token_hash_key;
CREATE INDEX portal_sessions_token_hash ON portal_sessions (token_hash);
-- A webhook arrives at /webhooks/{source id}: the source is found by its id alone.
ALTER TABLE webhook_sources DROP CONSTRAINT webhook_sources_id_key;
CREATE INDEX webhook_sources_id ON webhook_sources (id);

-- Deleting an integration detaches its webhook sources in the same transaction (deleteIntegration) instead of
-- the foreign key setting integration_id to NULL: Citus refuses SET NULL on a key that holds the distribution column.
ALTER TABLE webhook_sources DROP CONSTRAINT webhook_sources_tenant_id_integration_id_fkey;
ALTER TABLE webhook_sources ADD FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id);
