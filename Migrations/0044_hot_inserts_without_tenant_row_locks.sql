-- A foreign key to tenants makes every insert lock its tenant's row (FOR KEY SHARE): a WAL record and a write of
-- the tenant's heap page per insert, and a MultiXact whenever two inserts of the tenant overlap, as they always do
-- on a busy tenant. The hottest inserts paid that on every call: an event and its processing job per webhook
-- batch, an audit row per credential read (`bench api` made a MultiXact for nearly every one). Without these three
-- keys, `bench ingest`'s PostgreSQL spent 10 to 20% less CPU per event and its peak rose by 6 to 19% (three paired
-- runs, issue 18).
--
-- webhook_events keeps its key to its source, which belongs to the tenant: its key to tenants was redundant.
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_tenant_id_fkey;
-- jobs and audit_events keep their tenant_id without a key, like usage_counters and rate_limit_buckets. Deleting a
-- tenant deletes their rows in the same transaction (app_purge_deleted_tenant) and leaves a tombstone; a row that a
-- transaction overlapping the deletion wrote afterwards (a job a handler of the tenant enqueued as it finished) is
-- deleted by the scheduler's housekeeping, which sweeps every tombstone until it expires (app_sweep_deleted_tenants).
-- Row-level security hides such a row meanwhile: its tenant no longer exists, and ids are never reused.
ALTER TABLE jobs DROP CONSTRAINT jobs_tenant_id_fkey;
ALTER TABLE audit_events DROP CONSTRAINT audit_events_tenant_id_fkey;

CREATE TABLE deleted_tenants (
    tenant_id  uuid        PRIMARY KEY,
    deleted_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE deleted_tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE deleted_tenants FORCE ROW LEVEL SECURITY;
-- Written and read only by the two functions below (as the owner, within the caller's access mode): no grant.
CREATE POLICY purge_and_sweep ON deleted_tenants
    USING (app_is_operator() OR app_is_queue())
    WITH CHECK (app_is_operator() OR app_is_queue());

-- The one list of the tenant tables without a key to tenants that deleting a tenant must empty itself: deletes a
-- tenant's rows from them and returns how many. It takes the tenant's setting to pass their row-level security and
-- gives the caller's back (a SET clause on the function would, but an owner without superuser may not put one on
-- app.*). Called only by the two functions below, as their owner.
CREATE FUNCTION app_delete_unkeyed_tenant_rows(p_tenant uuid) RETURNS bigint
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
    PERFORM set_config('app.tenant_id', coalesce(v_caller_tenant, ''), true);
    RETURN v_deleted;
END
$$;

-- In the operator's transaction that deleted the tenant (the other tenant tables cascade from tenants): its jobs
-- and audit events, and the tombstone.
CREATE FUNCTION app_purge_deleted_tenant(p_tenant uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
BEGIN
    IF NOT app_is_operator() THEN
        RAISE EXCEPTION 'app_purge_deleted_tenant is for the operator' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF EXISTS (SELECT 1 FROM tenants WHERE id = p_tenant) THEN
        RAISE EXCEPTION 'tenant % still exists', p_tenant USING ERRCODE = 'object_in_use';
    END IF;
    PERFORM app_delete_unkeyed_tenant_rows(p_tenant);
    INSERT INTO deleted_tenants (tenant_id) VALUES (p_tenant) ON CONFLICT (tenant_id) DO NOTHING;
END
$$;

-- Housekeeping (queue mode): the rows written for deleted tenants since, then the tombstones older than p_keep.
-- Returns how many rows it deleted.
CREATE FUNCTION app_sweep_deleted_tenants(p_keep interval) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public
AS $$
DECLARE
    v_swept bigint;
BEGIN
    IF NOT app_is_queue() THEN
        RAISE EXCEPTION 'app_sweep_deleted_tenants is for housekeeping' USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT coalesce(sum(app_delete_unkeyed_tenant_rows(tenant_id)), 0)::bigint INTO v_swept FROM deleted_tenants;
    DELETE FROM deleted_tenants WHERE deleted_at < now() - p_keep;
    RETURN v_swept;
END
$$;

REVOKE EXECUTE ON FUNCTION app_delete_unkeyed_tenant_rows(uuid), app_purge_deleted_tenant(uuid), app_sweep_deleted_tenants(interval)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_purge_deleted_tenant(uuid), app_sweep_deleted_tenants(interval) TO switchyard_app;
