-- Destinations (issue: destinations): a tenant's endpoints that hear every event of `events` they subscribe to,
-- signed the Standard Webhooks way. A delivery is a `destination.deliver` job on the existing queue, so it has the
-- queue's leases, retries, fairness across tenants and dead letters; its attempts are the job's history.

-- A time-ordered UUID (version 7) made by the database, for rows inserted by triggers: millisecond time first,
-- random after (RFC 9562 §5.7).
CREATE FUNCTION app_uuid_v7() RETURNS uuid
    LANGUAGE sql VOLATILE PARALLEL SAFE
    AS $$
        SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                   PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
               52, 1), 53, 1), 'hex')::uuid
    $$;

-- The endpoint, its filters (an empty array matches everything) and its protection. `headers` are the tenant's
-- custom request headers (often a credential of the receiver's), sealed as one JSON object. A disabled
-- destination receives no new deliveries; the ones waiting for it stay queued until it is enabled again.
-- `failing_since` is when its current run of failed attempts began (auto-disable measures from it).
CREATE TABLE destinations (
    tenant_id             uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                    uuid        NOT NULL,
    url                   text        NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
    description           text        NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    headers               bytea       NOT NULL,
    headers_dek_id        uuid        NOT NULL,
    header_names          text[]      NOT NULL DEFAULT '{}',
    event_types           text[]      NOT NULL DEFAULT '{}',
    integration_ids       uuid[]      NOT NULL DEFAULT '{}',
    providers             text[]      NOT NULL DEFAULT '{}',
    ordered               boolean     NOT NULL DEFAULT false,
    ordering_key          text        NOT NULL DEFAULT 'integration_id' CHECK (ordering_key IN ('integration_id', 'event_type')),
    rate_limit_per_second int         CHECK (rate_limit_per_second BETWEEN 1 AND 100000),
    max_concurrency       int         CHECK (max_concurrency BETWEEN 1 AND 1000),
    enabled               boolean     NOT NULL DEFAULT true,
    disabled_reason       text        CHECK (length(disabled_reason) <= 500),
    disabled_at           timestamptz,
    failing_since         timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, headers_dek_id) REFERENCES tenant_data_keys (tenant_id, id) DEFERRABLE INITIALLY DEFERRED,
    CHECK (enabled = (disabled_at IS NULL))
);

CREATE INDEX destinations_dek ON destinations (tenant_id, headers_dek_id);

-- Signing secrets (`whsec_...`). A rotation gives the old one an `expires_at`; until then deliveries carry a
-- signature under each.
CREATE TABLE destination_secrets (
    tenant_id      uuid        NOT NULL,
    destination_id uuid        NOT NULL,
    id             uuid        NOT NULL,
    secret         bytea       NOT NULL,
    dek_id         uuid        NOT NULL,
    expires_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, destination_id) REFERENCES destinations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, dek_id) REFERENCES tenant_data_keys (tenant_id, id) DEFERRABLE INITIALLY DEFERRED
);

CREATE INDEX destination_secrets_destination ON destination_secrets (tenant_id, destination_id);
CREATE INDEX destination_secrets_dek ON destination_secrets (tenant_id, dek_id);

ALTER TABLE destinations ENABLE ROW LEVEL SECURITY;
ALTER TABLE destinations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON destinations
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());
-- The scheduler (queue mode) counts disabled destinations for the metric; it reads nothing else of them.
CREATE POLICY queue_counts_disabled ON destinations FOR SELECT USING (app_is_queue() AND NOT enabled);
CREATE INDEX destinations_disabled ON destinations (tenant_id) WHERE NOT enabled;

ALTER TABLE destination_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE destination_secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON destination_secrets
    USING (tenant_id = app_current_tenant())
    WITH CHECK (tenant_id = app_current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON destinations, destination_secrets TO switchyard_app;

-- A delivery job names its destination and event (the deliveries API filters on both), and an ordered
-- destination's deliveries carry an ordering key (`<destination id>/<key>`) and their place in it: the claim takes
-- only the first unfinished job of a key, so one key's deliveries reach the endpoint one at a time, in order.
ALTER TABLE jobs
    ADD COLUMN destination_id uuid,
    ADD COLUMN event_id       uuid,
    ADD COLUMN ordering_key   text CHECK (length(ordering_key) <= 300),
    ADD COLUMN ordering_seq   bigint,
    ADD CONSTRAINT jobs_ordering CHECK ((ordering_key IS NULL) = (ordering_seq IS NULL));

CREATE SEQUENCE jobs_ordering_seq AS bigint;
GRANT USAGE ON SEQUENCE jobs_ordering_seq TO switchyard_app;

CREATE INDEX jobs_destination ON jobs (tenant_id, destination_id, id) WHERE destination_id IS NOT NULL;
CREATE INDEX jobs_destination_waiting ON jobs (tenant_id, destination_id) WHERE destination_id IS NOT NULL AND state IN ('queued', 'failed');
CREATE INDEX jobs_event ON jobs (tenant_id, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX jobs_ordering_active ON jobs (tenant_id, ordering_key, ordering_seq)
    WHERE ordering_key IS NOT NULL AND state IN ('queued', 'running', 'failed');

-- Whether destination `d` subscribes to an event of `type` about `integration` (of `provider`). Patterns are exact
-- types, `prefix.*` or `*`.
CREATE FUNCTION app_destination_matches(d destinations, type text, integration uuid, provider text) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
        SELECT (cardinality(d.event_types) = 0
                OR type = ANY (d.event_types)
                OR EXISTS (SELECT 1 FROM unnest(d.event_types) p WHERE right(p, 1) = '*' AND starts_with(type, left(p, -1))))
           AND (cardinality(d.integration_ids) = 0 OR integration = ANY (d.integration_ids))
           AND (cardinality(d.providers) = 0 OR provider = ANY (d.providers))
    $$;

-- The request body of an event's deliveries: the event as `GET /v1/events` shows it. Made once, when the event is
-- recorded, so every attempt sends (and signs) the same bytes.
CREATE FUNCTION app_event_body(id uuid, type text, integration_id uuid, data jsonb, created_at timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
        SELECT jsonb_build_object(
            'id', id, 'type', type, 'integration_id', integration_id, 'data', data,
            'created_at', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text
    $$;

-- Fan-out: every statement that records events also creates their deliveries, one per matching enabled destination,
-- in the same transaction, so an event and its deliveries exist together or not at all.
CREATE FUNCTION events_fan_out() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        INSERT INTO jobs (tenant_id, id, kind, payload, max_attempts, destination_id, event_id, ordering_key, ordering_seq)
        SELECT m.tenant_id, app_uuid_v7(), 'destination.deliver',
               jsonb_build_object('destination_id', m.destination_id, 'event_id', m.event_id, 'body', m.body),
               8, m.destination_id, m.event_id,
               CASE WHEN m.ordered THEN m.destination_id::text || '/' || coalesce(m.key, '') END,
               CASE WHEN m.ordered THEN nextval('jobs_ordering_seq') END
          FROM (SELECT e.tenant_id, d.id AS destination_id, e.id AS event_id, d.ordered,
                       app_event_body(e.id, e.type, e.integration_id, e.data, e.created_at) AS body,
                       CASE d.ordering_key WHEN 'event_type' THEN e.type ELSE e.integration_id::text END AS key
                  FROM inserted e
                  JOIN destinations d ON d.tenant_id = e.tenant_id AND d.enabled
                  LEFT JOIN integrations i ON i.tenant_id = e.tenant_id AND i.id = e.integration_id
                 WHERE app_destination_matches(d, e.type, e.integration_id, i.provider)
                 ORDER BY e.id, d.id) m;
        RETURN NULL;
    END
    $$;

CREATE TRIGGER events_fan_out AFTER INSERT ON events
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events_fan_out();
