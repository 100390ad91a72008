-- Who did what to credentials and keys, and when (issue: credential vault). tenant_id is NULL for
-- platform-level events (the operator's own actions), which only the operator sees.
CREATE TABLE audit_events (
    tenant_id     uuid        REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid        NOT NULL PRIMARY KEY,
    actor         text        NOT NULL CHECK (length(actor) BETWEEN 1 AND 100),
    action        text        NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    resource_type text        NOT NULL,
    resource_id   text,
    request_id    text,
    details       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX audit_events_tenant ON audit_events (tenant_id, id DESC);

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_events
    USING (tenant_id = app_current_tenant() OR (tenant_id IS NULL AND app_is_operator()))
    WITH CHECK (tenant_id = app_current_tenant() OR (tenant_id IS NULL AND app_is_operator()));

-- Append-only for the application: no UPDATE or DELETE grant.
GRANT SELECT, INSERT ON audit_events TO switchyard_app;
