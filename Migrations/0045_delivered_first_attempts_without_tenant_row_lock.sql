-- delivered_first_attempts is written once per fan-out of an event, by executors running a busy tenant's fan-outs side
-- by side: its key to tenants locked the tenant's row FOR KEY SHARE on every write, as the three keys 0044 dropped
-- did (a WAL record and a heap-page write each, and a MultiXact whenever two writes overlapped). It keeps tenant_id
-- without a key; deleting a tenant deletes its rows with its jobs and audit events, and housekeeping sweeps a row
-- that a fan-out overlapping the deletion wrote after it.
ALTER TABLE delivered_first_attempts DROP CONSTRAINT delivered_first_attempts_tenant_id_fkey;

CREATE OR REPLACE FUNCTION app_delete_unkeyed_tenant_rows(p_tenant uuid) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public
AS $$
DECLARE
    v_caller_tenant text := current_setting('app.tenant_id', true);
    v_rows bigint;
    v_deleted bigint := 0;
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    DELETE FROM jobs WHERE tenant_id = p_tenant;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_deleted := v_deleted + v_rows;
    DELETE FROM audit_events WHERE tenant_id = p_tenant;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_deleted := v_deleted + v_rows;
    DELETE FROM delivered_first_attempts WHERE tenant_id = p_tenant;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_deleted := v_deleted + v_rows;
    PERFORM set_config('app.tenant_id', coalesce(v_caller_tenant, ''), true);
    RETURN v_deleted;
END
$$;
