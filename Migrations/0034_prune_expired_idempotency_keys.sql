-- The scheduler's housekeeping (queue mode) deletes Idempotency-Keys past their expiry, the tenants' and the
-- operator's: a key is remembered for 24 hours, and until now an expired one was only ever overwritten by a request
-- that used the same key again, so the tables grew with every request that carried one. The queue mode sees
-- expired keys only, and only to delete them.
CREATE POLICY queue_sees_expired ON idempotency_keys FOR SELECT USING (app_is_queue() AND expires_at < now());
CREATE POLICY queue_prunes_expired ON idempotency_keys FOR DELETE USING (app_is_queue() AND expires_at < now());
CREATE POLICY queue_sees_expired ON platform_idempotency_keys FOR SELECT USING (app_is_queue() AND expires_at < now());
CREATE POLICY queue_prunes_expired ON platform_idempotency_keys FOR DELETE USING (app_is_queue() AND expires_at < now());
