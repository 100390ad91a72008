-- Inbound webhooks (issue: inbound webhooks). A source is a tenant's ingest endpoint with its signature
-- scheme and secrets; an event is one accepted delivery, recorded once per (tenant, source, event id).

-- The ingest writer's mode, set by `Database.withIngest`: it may insert events for any tenant (it has
-- verified each with that tenant's own secret) and read back what it inserted, nothing else.
CREATE FUNCTION app_is_ingest() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('app.ingest', true), '') = 'on' $$;

CREATE TABLE webhook_sources (
    tenant_id      uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- Random (v4): the id is the unguessable part of the ingest URL /webhooks/{id}.
    id             uuid        NOT NULL UNIQUE,
    name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    scheme         jsonb       NOT NULL CHECK (jsonb_typeof(scheme) = 'object'),
    integration_id uuid,
    max_body_bytes int         NOT NULL CHECK (max_body_bytes BETWEEN 1024 AND 10485760),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id) ON DELETE SET NULL (integration_id)
);

-- Several secrets may be active at once (rotation, WH-3); one with expires_at stops working then.
CREATE TABLE webhook_source_secrets (
    tenant_id  uuid        NOT NULL,
    source_id  uuid        NOT NULL,
    id         uuid        NOT NULL,
    secret     bytea       NOT NULL,
    dek_id     uuid        NOT NULL,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, source_id) REFERENCES webhook_sources (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, dek_id) REFERENCES tenant_data_keys (tenant_id, id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX webhook_source_secrets_source ON webhook_source_secrets (tenant_id, source_id);
CREATE INDEX webhook_source_secrets_dek ON webhook_source_secrets (tenant_id, dek_id);

CREATE TABLE webhook_events (
    tenant_id      uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             uuid        NOT NULL,
    source_id      uuid        NOT NULL,
    event_id       text        NOT NULL CHECK (length(event_id) BETWEEN 1 AND 300),
    event_type     text        CHECK (length(event_type) <= 300),
    integration_id uuid,
    headers        jsonb       NOT NULL CHECK (jsonb_typeof(headers) = 'object'),
    body           bytea       NOT NULL,
    status         text        NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'failed')),
    attempts       int         NOT NULL DEFAULT 0,
    last_error     text,
    received_at    timestamptz NOT NULL DEFAULT now(),
    processed_at   timestamptz,
    PRIMARY KEY (tenant_id, id),
    -- WH-6: a redelivery conflicts here and changes nothing.
    UNIQUE (tenant_id, source_id, event_id),
    FOREIGN KEY (tenant_id, source_id) REFERENCES webhook_sources (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX webhook_events_source ON webhook_events (tenant_id, source_id, id);
CREATE INDEX webhook_events_status ON webhook_events (tenant_id, status, id);
CREATE INDEX webhook_events_received ON webhook_events (tenant_id, received_at);

ALTER TABLE webhook_sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_sources FORCE ROW LEVEL SECURITY;
-- The ingest endpoint knows only the source id: it finds the tenant through the operator's view.
CREATE POLICY tenant_isolation ON webhook_sources
    USING (tenant_id = app_current_tenant() OR app_is_operator())
    WITH CHECK (tenant_id = app_current_tenant());

ALTER TABLE webhook_source_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_source_secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_source_secrets
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

ALTER TABLE webhook_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_events
    USING (tenant_id = app_current_tenant() OR app_is_ingest())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_ingest());

GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_sources, webhook_source_secrets, webhook_events TO switchyard_app;
