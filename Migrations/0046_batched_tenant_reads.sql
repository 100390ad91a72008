-- Batched hot reads (issue 18): the reads of several requests in one statement, so that under load one round trip
-- serves several requests (`ReadCombiner`). For each read, a function sets that read's tenant and then runs its
-- query, exactly as the one-read functions of 0036 do: row-level security applies to each query with its own tenant,
-- and set_config(..., true) lasts until the statement's implicit transaction ends, so the connection carries no tenant
-- afterwards. The caller passes only tenants it has authenticated, as with 0036's functions. 0036's functions stay for
-- processes of the previous release during a rolling upgrade.

-- Tenants' own rows (`GET /v1/me`): the columns of `TenantRecord`, one row per tenant that exists.
CREATE FUNCTION app_read_tenants(p_tenants uuid[])
    RETURNS TABLE (id uuid, slug text, name text, created_at timestamptz, updated_at timestamptz, connect_return_origins text[])
    LANGUAGE plpgsql SECURITY INVOKER
AS $$
DECLARE
    v_tenant uuid;
BEGIN
    FOREACH v_tenant IN ARRAY p_tenants LOOP
        PERFORM set_config('app.tenant_id', v_tenant::text, true);
        RETURN QUERY
            SELECT t.id, t.slug, t.name, t.created_at, t.updated_at, t.connect_return_origins
              FROM tenants t WHERE t.id = v_tenant;
    END LOOP;
END
$$;

-- Integrations by id (`GET /v1/integrations/{id}`), the n-th of p_ids read as the n-th of p_tenants: the tenant and
-- the columns of `IntegrationRecord` (its JSON columns as text), one row per integration found.
CREATE FUNCTION app_read_integrations_by_id(p_tenants uuid[], p_ids uuid[])
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
    FOR v_index IN 1 .. coalesce(cardinality(p_ids), 0) LOOP
        PERFORM set_config('app.tenant_id', p_tenants[v_index]::text, true);
        RETURN QUERY
            SELECT i.tenant_id, i.id, i.provider, i.display_name, i.auth_type, i.status, i.connection_parameters::text,
                   i.end_user_id, i.tags, i.created_at, i.updated_at, i.health::text, i.provider_account_id
              FROM integrations i WHERE i.tenant_id = p_tenants[v_index] AND i.id = p_ids[v_index];
    END LOOP;
END
$$;

REVOKE EXECUTE ON FUNCTION app_read_tenants(uuid[]), app_read_integrations_by_id(uuid[], uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_read_tenants(uuid[]), app_read_integrations_by_id(uuid[], uuid[]) TO switchyard_app;
