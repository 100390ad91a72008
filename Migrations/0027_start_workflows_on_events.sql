-- Workflows triggered by events (issue 16): every statement that records events also queues a `workflow.run` job per
-- (event, enabled workflow whose active version's trigger names the event's type), in the same transaction, like the
-- destinations' fan-out of migration 0023. The job carries the event as `GET /v1/events` shows it and the version it
-- pins; it evaluates the trigger's condition and creates the run (with the job's id) only when it holds, so recording
-- an event stays one set-based statement per table whatever the conditions say. `workflow.*` events start nothing:
-- a workflow cannot trigger itself.

-- Whether `type` matches one of `patterns`: exact types, `prefix.*`, or `*`.
CREATE FUNCTION app_event_type_matches(patterns text[], type text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT type = ANY (patterns)
            OR EXISTS (SELECT 1 FROM unnest(patterns) p WHERE right(p, 1) = '*' AND starts_with(type, left(p, -1)))
    $$;

CREATE FUNCTION events_start_workflows() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
        INSERT INTO jobs (tenant_id, id, kind, payload, max_attempts)
        SELECT e.tenant_id, app_uuid_v7(), 'workflow.run',
               jsonb_build_object('workflow_id', w.id, 'version', w.active_version,
                                  'event', app_event_body(e.id, e.type, e.integration_id, e.data, e.created_at)::jsonb),
               10
          FROM inserted e
          JOIN workflows w ON w.tenant_id = e.tenant_id AND w.enabled AND cardinality(w.trigger_event_types) > 0
         WHERE NOT starts_with(e.type, 'workflow.') AND app_event_type_matches(w.trigger_event_types, e.type)
         ORDER BY e.id, w.id;
        RETURN NULL;
    END
    $$;

CREATE TRIGGER events_start_workflows AFTER INSERT ON events
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION events_start_workflows();
