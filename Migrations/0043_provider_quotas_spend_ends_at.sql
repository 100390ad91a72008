-- A provider quota window's end is known only within the round trip of the request whose answer announced it
-- (issue 18): the provider counted that request somewhere between its sending and the answer. `window_ends_at` is now
-- the latest possible end (the next window is probed only after it) and `spend_ends_at` the earliest (tokens of the
-- window are granted only before it). Between the two, leases wait. Rows are short-lived; a current one keeps its
-- single instant for both until its window ends.
ALTER TABLE provider_quotas ADD COLUMN spend_ends_at timestamptz;
UPDATE provider_quotas SET spend_ends_at = window_ends_at;
ALTER TABLE provider_quotas
    ALTER COLUMN spend_ends_at SET NOT NULL,
    ADD CONSTRAINT provider_quotas_spend_before_end CHECK (spend_ends_at <= window_ends_at);
