-- Deliveries a fan-out delivered at its first attempt: one narrow row each, instead of a finished `destination.deliver`
-- job. Nearly every delivery ends that way, and as a job it was a wide row (payload with the event's body, history
-- built as JSON) in the queue's own table, with five of its indexes to update and its claim and ready indexes to
-- bloat: `bench fanout` spent most of PostgreSQL's time writing those rows (pgbench on the benchmark's data: 70 µs a
-- row as a job, 33 µs here). A delivery whose first attempt failed, or that is attempted again, stays a job: retries,
-- ordering, dead letters and redrive are the queue's.
--
-- The body is not copied: it is the event's (`app_event_body`), as the fan-out made it. The deliveries API reads these
-- rows beside the delivery jobs (`DeliveryRecord.source`), as succeeded deliveries with their one attempt, and they
-- are pruned with the succeeded jobs, after the same retention.
CREATE TABLE delivered_first_attempts (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- The delivery's id, chosen by the fan-out trigger: a delivery is either this row or a job with this id, never both.
    id uuid NOT NULL,
    destination_id uuid NOT NULL,
    event_id uuid NOT NULL,
    -- When the fan-out recorded it (a delivery job's created_at is its insertion too).
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    -- What the attempt recorded, as a job attempt's `detail`: status, duration, `webhook-id`, the answer's first bytes.
    detail jsonb NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX delivered_first_attempts_destination ON delivered_first_attempts (tenant_id, destination_id, id);
CREATE INDEX delivered_first_attempts_event ON delivered_first_attempts (tenant_id, event_id);
-- Retention pruning, with the finished jobs.
CREATE INDEX delivered_first_attempts_finished ON delivered_first_attempts (finished_at);

ALTER TABLE delivered_first_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE delivered_first_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON delivered_first_attempts
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());
-- The queue's machinery prunes them with the finished jobs; it reads and deletes nothing else of them.
CREATE POLICY queue_prunes ON delivered_first_attempts FOR SELECT USING (app_is_queue());
CREATE POLICY queue_prunes_delete ON delivered_first_attempts FOR DELETE USING (app_is_queue());

GRANT SELECT, INSERT, DELETE ON delivered_first_attempts TO switchyard_app;
