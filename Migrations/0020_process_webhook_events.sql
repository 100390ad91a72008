-- Webhook events are processed through the job queue (issue: inbound webhooks).
-- The ingest writer enqueues each new event's `webhook.process` job in the statement that records it
-- (REQUIREMENTS RL-1), so its mode may insert jobs; the scheduler's housekeeping (queue mode) prunes
-- events past their retention.
ALTER POLICY tenant_isolation ON jobs
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_queue() OR app_is_ingest());

ALTER POLICY tenant_isolation ON webhook_events
    USING (tenant_id = app_current_tenant() OR app_is_ingest() OR app_is_queue())
    WITH CHECK (tenant_id = app_current_tenant() OR app_is_ingest());

-- The provider's id for the account an integration connects (Slack team, Stripe account, ...): how an event
-- arriving at a shared endpoint finds its integration.
ALTER TABLE integrations ADD COLUMN provider_account_id text CHECK (length(provider_account_id) BETWEEN 1 AND 200);
CREATE INDEX integrations_provider_account ON integrations (tenant_id, provider_account_id) WHERE provider_account_id IS NOT NULL;

-- Retention pruning looks across tenants by arrival time.
DROP INDEX webhook_events_received;
CREATE INDEX webhook_events_received ON webhook_events (received_at);
