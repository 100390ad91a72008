-- The authenticated read path in one round trip (issue 18). A tenant read used to be BEGIN, set_config, the
-- query, COMMIT: four round trips, since postgres-nio neither pipelines nor speaks the simple-query protocol.
-- Each function below is called as one autocommitted statement (`Database.readAsTenant`): it sets the tenant
-- for its own implicit transaction (set_config(..., true)), which ends with the statement, so a pooled
-- connection (or a PgBouncer server connection in transaction mode) never carries the tenant afterwards.
--
-- SECURITY INVOKER: the statements inside run as the calling application role, under the same row-level
-- security policies as every other statement of it. PL/pgSQL, not SQL: a SQL function's body could be inlined
-- into the caller, where the policies' app_current_tenant() would not be ordered after the set_config; in
-- PL/pgSQL the set_config is a statement of its own that completes before the query (whose plan the session
-- caches) runs. The explicit tenant_id conditions are the ones the record readers use; the policies are what
-- enforce isolation.

-- The tenant's own row (`GET /v1/me`): the columns of `TenantRecord`.
CREATE FUNCTION app_read_tenant(p_tenant uuid)
    RETURNS TABLE (id uuid, slug text, name text, created_at timestamptz, updated_at timestamptz, connect_return_origins text[])
    LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    RETURN QUERY
        SELECT t.id, t.slug, t.name, t.created_at, t.updated_at, t.connect_return_origins
          FROM tenants t WHERE t.id = p_tenant;
END
$$;

-- One integration (`GET /v1/integrations/{id}`): the columns of `IntegrationRecord` (its JSON columns as text).
CREATE FUNCTION app_read_integration(p_tenant uuid, p_integration uuid)
    RETURNS TABLE (
        id uuid, provider text, display_name text, auth_type text, status text, connection_parameters text,
        end_user_id text, tags text[], created_at timestamptz, updated_at timestamptz, health text, provider_account_id text
    )
    LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    RETURN QUERY
        SELECT i.id, i.provider, i.display_name, i.auth_type, i.status, i.connection_parameters::text,
               i.end_user_id, i.tags, i.created_at, i.updated_at, i.health::text, i.provider_account_id
          FROM integrations i WHERE i.tenant_id = p_tenant AND i.id = p_integration;
END
$$;

-- A page of integrations (`GET /v1/integrations`): the filters and keyset cursor of `TenantTransaction.integrations`.
-- The cursor is compared through coalesce so that it stays an index condition on (tenant_id, id) in the plan that
-- PL/pgSQL caches, first page or not.
CREATE FUNCTION app_read_integrations(p_tenant uuid, p_after uuid, p_provider text, p_status text, p_tag text, p_limit int)
    RETURNS TABLE (
        id uuid, provider text, display_name text, auth_type text, status text, connection_parameters text,
        end_user_id text, tags text[], created_at timestamptz, updated_at timestamptz, health text, provider_account_id text
    )
    LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    RETURN QUERY
        SELECT i.id, i.provider, i.display_name, i.auth_type, i.status, i.connection_parameters::text,
               i.end_user_id, i.tags, i.created_at, i.updated_at, i.health::text, i.provider_account_id
          FROM integrations i
         WHERE i.tenant_id = p_tenant
           AND i.id > coalesce(p_after, '00000000-0000-0000-0000-000000000000'::uuid)
           AND (p_provider IS NULL OR i.provider = p_provider)
           AND (p_status IS NULL OR i.status = p_status)
           AND (p_tag IS NULL OR i.tags @> ARRAY[p_tag])
         ORDER BY i.id LIMIT p_limit;
END
$$;

-- An audited credential read (`GET /v1/integrations/{id}/credentials`): records the audit event, when the
-- integration exists, in the same statement (so in the same transaction) as the read, and returns the integration,
-- its sealed credential (NULL when it has none) and the wrapped data key that sealed it, so that a cold key cache
-- costs no second statement. The credential is opened by the application, never here.
CREATE FUNCTION app_read_credential(
    p_tenant uuid, p_integration uuid,
    p_audit_id uuid, p_actor text, p_action text, p_resource_type text, p_resource_id text, p_request_id text, p_details text
)
    RETURNS TABLE (
        id uuid, provider text, display_name text, auth_type text, status text, connection_parameters text,
        end_user_id text, tags text[], created_at timestamptz, updated_at timestamptz, health text, provider_account_id text,
        secret bytea, dek_id uuid, wrapped_key bytea, kek_id text, kek_version int
    )
    LANGUAGE plpgsql SECURITY INVOKER
AS $$
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    INSERT INTO audit_events (tenant_id, id, actor, action, resource_type, resource_id, request_id, details)
    SELECT p_tenant, p_audit_id, p_actor, p_action, p_resource_type, p_resource_id, p_request_id, p_details::jsonb
      FROM integrations i WHERE i.tenant_id = p_tenant AND i.id = p_integration;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY
        SELECT i.id, i.provider, i.display_name, i.auth_type, i.status, i.connection_parameters::text,
               i.end_user_id, i.tags, i.created_at, i.updated_at, i.health::text, i.provider_account_id,
               c.secret, c.dek_id, k.wrapped_key, k.kek_id, k.kek_version
          FROM integrations i
          LEFT JOIN integration_credentials c ON c.tenant_id = i.tenant_id AND c.integration_id = i.id
          LEFT JOIN tenant_data_keys k ON k.tenant_id = c.tenant_id AND k.id = c.dek_id
         WHERE i.tenant_id = p_tenant AND i.id = p_integration;
END
$$;

-- Functions are executable by PUBLIC by default; these are the application's.
REVOKE EXECUTE ON FUNCTION app_read_tenant(uuid), app_read_integration(uuid, uuid),
    app_read_integrations(uuid, uuid, text, text, text, int), app_read_credential(uuid, uuid, uuid, text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_read_tenant(uuid), app_read_integration(uuid, uuid),
    app_read_integrations(uuid, uuid, text, text, text, int), app_read_credential(uuid, uuid, uuid, text, text, text, text, text, text) TO switchyard_app;
