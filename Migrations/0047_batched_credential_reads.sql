-- Audited credential reads in batches (issue 18), as 0046 batches the other hot reads: for each read, the n-th
-- element of every array, the tenant is set and then the read runs exactly as in 0036's app_read_credential (the
-- audit event recorded when the integration exists, in the same statement, so in the same transaction, as the read).
-- One statement, one commit, one WAL flush for the whole batch. Each row returned carries the audit id of its read.
-- The application's arrays cannot carry NULL elements: an empty resource or request id is recorded as NULL.
CREATE FUNCTION app_read_credentials(
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
    FOR v_index IN 1 .. v_count LOOP
        PERFORM set_config('app.tenant_id', p_tenants[v_index]::text, true);
        INSERT INTO audit_events (tenant_id, id, actor, action, resource_type, resource_id, request_id, details)
        SELECT p_tenants[v_index], p_audit_ids[v_index], p_actors[v_index], p_actions[v_index], p_resource_types[v_index],
               nullif(p_resource_ids[v_index], ''), nullif(p_request_ids[v_index], ''), p_details[v_index]::jsonb
          FROM integrations i WHERE i.tenant_id = p_tenants[v_index] AND i.id = p_integrations[v_index];
        IF FOUND THEN
            RETURN QUERY
                SELECT p_audit_ids[v_index], i.id, i.provider, i.display_name, i.auth_type, i.status, i.connection_parameters::text,
                       i.end_user_id, i.tags, i.created_at, i.updated_at, i.health::text, i.provider_account_id,
                       c.secret, c.dek_id, k.wrapped_key, k.kek_id, k.kek_version
                  FROM integrations i
                  LEFT JOIN integration_credentials c ON c.tenant_id = i.tenant_id AND c.integration_id = i.id
                  LEFT JOIN tenant_data_keys k ON k.tenant_id = c.tenant_id AND k.id = c.dek_id
                 WHERE i.tenant_id = p_tenants[v_index] AND i.id = p_integrations[v_index];
        END IF;
    END LOOP;
END
$$;

REVOKE EXECUTE ON FUNCTION app_read_credentials(uuid[], uuid[], uuid[], text[], text[], text[], text[], text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_read_credentials(uuid[], uuid[], uuid[], text[], text[], text[], text[], text[], text[]) TO switchyard_app;
