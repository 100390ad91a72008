-- The records store of syncs (issue: syncs): one row per (tenant, integration, model, external id), with the
-- record's JSON and a content hash, so an unchanged record is not rewritten.
--
-- The change feed orders changes by (change_xid, change_seq): the writing transaction's id, then a sequence
-- within it. A reader returns only changes of transactions older than its snapshot's xmin (every transaction
-- below it has committed or aborted), so a change that commits late, after a younger transaction's, is never
-- skipped by a cursor that has moved past the younger one: it is simply not visible to readers until every
-- older writer has finished. Writers commit a page at a time, so the feed lags by at most the oldest open
-- writing transaction.
CREATE SEQUENCE sync_record_change_seq;

CREATE TABLE sync_records (
    tenant_id      uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    integration_id uuid        NOT NULL,
    model          text        NOT NULL CHECK (model ~ '^[a-z][a-z0-9_]{0,63}$'),
    external_id    text        NOT NULL CHECK (length(external_id) BETWEEN 1 AND 512),
    data           jsonb       NOT NULL,
    content_hash   bytea       NOT NULL CHECK (length(content_hash) = 32),
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    modified_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz,
    change_xid     xid8        NOT NULL DEFAULT pg_current_xact_id(),
    change_seq     bigint      NOT NULL DEFAULT nextval('sync_record_change_seq'),
    PRIMARY KEY (tenant_id, integration_id, model, external_id),
    FOREIGN KEY (tenant_id, integration_id) REFERENCES integrations (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX sync_records_changes ON sync_records (tenant_id, integration_id, model, change_xid, change_seq);

ALTER TABLE sync_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_records FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sync_records
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON sync_records TO switchyard_app;
GRANT USAGE ON SEQUENCE sync_record_change_seq TO switchyard_app;
