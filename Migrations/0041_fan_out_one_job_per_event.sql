-- Fan-out by event: an event's deliveries to the destinations that do not ask for ordered delivery are first
-- attempted by one `destination.fan_out` job, not by a `destination.deliver` job each. The fan-out job sends them
-- all, then records each as a delivery job in its final state (delivered, failed and due for its retry, or a dead
-- letter) in one statement: a delivery that succeeds the first time is one row written once, instead of a row
-- inserted, claimed and completed (two updates of a row with seven indexes: `bench fanout` spent most of
-- PostgreSQL's time there). The trigger chooses each delivery's id, so a fan-out job that runs again cannot make one
-- twice.
--
-- Ordered destinations keep one job per delivery, made here as before: their order is `jobs_ordering_seq`'s, which
-- must be drawn in the transaction that records the events.
CREATE OR REPLACE FUNCTION events_fan_out() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        WITH matched AS (
            SELECT e.tenant_id, e.id AS event_id, d.id AS destination_id, d.ordered,
                   CASE d.ordering_key WHEN 'event_type' THEN e.type ELSE e.integration_id::text END AS key
              FROM inserted e
              JOIN destinations d ON d.tenant_id = e.tenant_id AND d.enabled
              LEFT JOIN integrations i ON i.tenant_id = e.tenant_id AND i.id = e.integration_id
             WHERE app_destination_matches(d, e.type, e.integration_id, i.provider)
        ), in_order AS (
            INSERT INTO jobs (tenant_id, id, kind, payload, max_attempts, destination_id, event_id, ordering_key, ordering_seq)
            SELECT m.tenant_id, app_uuid_v7(), 'destination.deliver',
                   jsonb_build_object('destination_id', m.destination_id, 'event_id', m.event_id, 'body', m.body),
                   8, m.destination_id, m.event_id, m.destination_id::text || '/' || coalesce(m.key, ''), nextval('jobs_ordering_seq')
              FROM (SELECT o.*, app_event_body(e.id, e.type, e.integration_id, e.data, e.created_at) AS body
                      FROM matched o JOIN inserted e ON e.tenant_id = o.tenant_id AND e.id = o.event_id
                     WHERE o.ordered
                     ORDER BY o.event_id, o.destination_id) m
        )
        INSERT INTO jobs (tenant_id, id, kind, payload, max_attempts)
        SELECT e.tenant_id, app_uuid_v7(), 'destination.fan_out',
               jsonb_build_object('event_id', e.id, 'body', app_event_body(e.id, e.type, e.integration_id, e.data, e.created_at),
                                  'deliveries', f.deliveries),
               8
          FROM inserted e
          JOIN (SELECT tenant_id, event_id,
                       jsonb_agg(jsonb_build_object('id', app_uuid_v7(), 'destination_id', destination_id) ORDER BY destination_id) AS deliveries
                  FROM matched WHERE NOT ordered GROUP BY tenant_id, event_id) f
            ON f.tenant_id = e.tenant_id AND f.event_id = e.id
         ORDER BY e.id;
        RETURN NULL;
    END
    $$;
