-- The batched hot reads of 0046 and 0047 as one set-based statement each (issue 18), instead of a loop that sets
-- each read's tenant and runs its query, which costs PostgreSQL an executor start or three per read. `bench api`
-- measured PostgreSQL's CPU per `GET /v1/integrations/{id}` at 7 µs against 10, and per audited credential read at
-- 21 µs against 47; the routes' rates rose with it (0.40 of `/healthz` against 0.36, credentials 0.26 against 0.19):
-- a shorter batch answers the requests waiting on it sooner.
--
-- Row-level security still decides what each statement may touch. A batch function lists the tenants the
-- application authenticated for the batch's reads in app.batch_tenants, transaction-local like app.tenant_id and
-- cleared again before the function returns, and the policies below let a statement read, and audit, the rows of
-- those tenants only. Each read is then paired with its own tenant's row by the statement's join on
-- (tenant_id, id): a key of tenant A names no row of tenant B even when both are in the batch. The policies admit
-- reads (and the audit's inserts), never updates or deletes, and no row of a tenant outside the list.

CREATE FUNCTION app_batch_tenants() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.batch_tenants', true), '')::uuid[] $$;

-- Permissive, so OR-ed with tenant_isolation. The list is read once per statement (an InitPlan), not once per row;
-- a statement outside a batch function reads NULL, which admits nothing.
CREATE POLICY batch_reads ON tenants FOR SELECT USING (id = ANY ((SELECT app_batch_tenants())::uuid[]));
CREATE POLICY batch_reads ON integrations FOR SELECT USING (tenant_id = ANY ((SELECT app_batch_tenants())::uuid[]));
CREATE POLICY batch_reads ON integration_credentials FOR SELECT USING (tenant_id = ANY ((SELECT app_batch_tenants())::uuid[]));
CREATE POLICY batch_reads ON tenant_data_keys FOR SELECT USING (tenant_id = ANY ((SELECT app_batch_tenants())::uuid[]));
CREATE POLICY batch_audits ON audit_events FOR INSERT WITH CHECK (tenant_id = ANY ((SELECT app_batch_tenants())::uuid[]));

-- Tenants' own rows (`GET /v1/me`), one row per tenant that exists.
CREATE OR REPLACE FUNCTION app_read_tenants(p_tenants uuid[])
    RETURNS TABLE (id uuid, slug text, name text, created_at timestamptz, updated_at timestamptz, connect_return_origins text[])
    LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
    PERFORM set_config('app.batch_tenants', coalesce(p_tenants::text, ''), true);
    RETURN QUERY
        SELECT t.id, t.slug, t.name, t.created_at, t.updated_at, t.connect_return_origins
          FROM tenants t WHERE t.id = ANY (p_tenants);
    PERFORM set_config('app.batch_tenants', '', true);
END
$$;

-- Integrations by id (`GET /v1/integrations/{id}`), the n-th of p_ids read as the n-th of p_tenants: one row per
-- integration found.
CREATE OR REPLACE FUNCTION app_read_integrations_by_id(p_tenants uuid[], p_ids uuid[])
    RETURNS TABLE (
        tenant_id uuid, id uuid, provider text, display_name text, auth_type text, status text, connection_parameters text,
        end_user_id text, tags text[], created_at timestamptz, updated_at timestamptz, health text, provider_account_id text
    )
    LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
    IF cardinality(p_tenants) IS DISTINCT FROM cardinality(p_ids) THEN
        RAISE EXCEPTION 'app_read_integrations_by_id: % tenants for % ids', cardinality(p_tenants), cardinality(p_ids);
    END IF;
    PERFORM set_config('app.batch_tenants', coalesce(p_tenants::text, ''), true);
    RETURN QUERY
        SELECT i.tenant_id, i.id, i.provider, i.display_name, i.auth_type, i.status, i.connection_parameters::text,
               i.end_user_id, i.tags, i.created_at, i.updated_at, i.health::text, i.provider_account_id
          FROM unnest(p_tenants, p_ids) AS k (tenant_id, id)
          JOIN integrations i ON i.tenant_id = k.tenant_id AND i.id = k.id;
    PERFORM set_config('app.batch_tenants', '', true);
END
$$;

-- Audited credential reads: for each read whose integration exists, its audit event is inserted and its row
-- returned, in one statement, so under one snapshot: a row is returned exactly when its audit event is written, and
-- both commit together. An empty resource or request id is recorded as NULL (the application's arrays cannot carry
-- NULL elements).
CREATE OR REPLACE FUNCTION app_read_credentials(
    p_tenants uuid[], p_integrations uuid[],
    p_audit_ids uuid[], p_actors text[], p_actions text[], p_resource_types text[], p_resource_ids text[], p_request_ids text[],
    p_details text[]
)
    RETURNS TABLE (
        audit_id uuid,
        id uuid, provider text, display_name text, auth_type text, status text, connection_parameters text,
        end_user_id text, tags text[], created_at timestamptz, updated_at timestamptz, health text, provider_account_id text,
        secret bytea, dek_id uuid, wrapped_key bytea, kek_id text, kek_version int
    )
    LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
    v_count int := coalesce(cardinality(p_audit_ids), 0);
BEGIN
    IF coalesce(cardinality(p_tenants), 0) <> v_count OR coalesce(cardinality(p_integrations), 0) <> v_count
        OR coalesce(cardinality(p_actors), 0) <> v_count OR coalesce(cardinality(p_actions), 0) <> v_count
        OR coalesce(cardinality(p_resource_types), 0) <> v_count OR coalesce(cardinality(p_resource_ids), 0) <> v_count
        OR coalesce(cardinality(p_request_ids), 0) <> v_count OR coalesce(cardinality(p_details), 0) <> v_count THEN
        RAISE EXCEPTION 'app_read_credentials: arrays of different lengths';
    END IF;
    PERFORM set_config('app.batch_tenants', coalesce(p_tenants::text, ''), true);
    RETURN QUERY
        WITH reads AS (
            SELECT *
              FROM unnest(p_tenants, p_integrations, p_audit_ids, p_actors, p_actions, p_resource_types, p_resource_ids,
                          p_request_ids, p_details)
                AS r (tenant_id, integration_id, audit_id, actor, action, resource_type, resource_id, request_id, details)
        ), audited AS (
            -- Runs to completion although nothing below reads it (a data-modifying WITH always does).
            INSERT INTO audit_events (tenant_id, id, actor, action, resource_type, resource_id, request_id, details)
            SELECT r.tenant_id, r.audit_id, r.actor, r.action, r.resource_type, nullif(r.resource_id, ''),
                   nullif(r.request_id, ''), r.details::jsonb
              FROM reads r JOIN integrations i ON i.tenant_id = r.tenant_id AND i.id = r.integration_id
        )
        SELECT r.audit_id, i.id, i.provider, i.display_name, i.auth_type, i.status, i.connection_parameters::text,
               i.end_user_id, i.tags, i.created_at, i.updated_at, i.health::text, i.provider_account_id,
               c.secret, c.dek_id, k.wrapped_key, k.kek_id, k.kek_version
          FROM reads r
          JOIN integrations i ON i.tenant_id = r.tenant_id AND i.id = r.integration_id
          LEFT JOIN integration_credentials c ON c.tenant_id = i.tenant_id AND c.integration_id = i.id
          LEFT JOIN tenant_data_keys k ON k.tenant_id = c.tenant_id AND k.id = c.dek_id;
    PERFORM set_config('app.batch_tenants', '', true);
END
$$;
