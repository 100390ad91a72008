-- Providers a tenant defines itself, beside the built-in catalog. The definition is the same JSON
-- document `GET /v1/providers` shows, validated (and its URLs checked against SSRF rules) by the API.
CREATE TABLE custom_providers (
    tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         text        NOT NULL CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    definition jsonb       NOT NULL CHECK (jsonb_typeof(definition) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);

ALTER TABLE custom_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE custom_providers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON custom_providers
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON custom_providers TO switchyard_app;
