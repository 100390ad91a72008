-- The scheduler's count of active workflow runs (the metric `switchyard_workflow_runs_active`) moves from a
-- policy to a function. The SELECT policy of 0028 applied to the application role, so PostgreSQL OR'ed it with
-- the tenant's own policy in every statement on workflow_runs, tenant statements included. The OR hid the tenant
-- equality from the planner (it could no longer merge it with the statement's own `tenant_id = $1`), which then
-- counted the tenant's selectivity twice, thought a busy tenant had one run, and hashed all of its runs to update
-- a hundred (`auto_explain` on `bench workflow`).
DROP POLICY queue_counts_active ON workflow_runs;

-- The owner (who runs the migrations and owns the function below) may read active runs of every tenant; the
-- application role sees only its tenant's policy again.
CREATE POLICY owner_counts_active ON workflow_runs FOR SELECT TO CURRENT_USER USING (status IN ('running', 'waiting'));

-- Counts for queue mode only (app_is_queue() reads the caller's session setting), and nothing but counts.
CREATE FUNCTION app_count_active_workflow_runs(OUT running int, OUT waiting int)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT count(*) FILTER (WHERE status = 'running')::int, count(*) FILTER (WHERE status = 'waiting')::int
      FROM public.workflow_runs
     WHERE status IN ('running', 'waiting') AND public.app_is_queue()
$$;

REVOKE EXECUTE ON FUNCTION app_count_active_workflow_runs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_count_active_workflow_runs() TO switchyard_app;
