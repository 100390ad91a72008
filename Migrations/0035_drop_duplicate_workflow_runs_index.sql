-- `workflow_runs_list (tenant_id, id)` has duplicated the primary key since migration 0032 made it `(tenant_id, id)`:
-- every run's insert and every update of its status (three or more per run) paid for both.
DROP INDEX workflow_runs_list;
