-- The scheduler (queue mode) counts the runs running and waiting across tenants for the metric
-- `switchyard_workflow_runs_active`; it reads nothing else of them.
CREATE POLICY queue_counts_active ON workflow_runs FOR SELECT USING (app_is_queue() AND status IN ('running', 'waiting'));
