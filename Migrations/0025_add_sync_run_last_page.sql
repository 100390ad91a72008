-- What a sync run's last committed page said about the next one (its cursor, next URL, record count), written by
-- the statement that writes the page. With it, `position` is where that last committed page was read rather than
-- where the next one starts, and a resumed attempt finds its first page from the two.
ALTER TABLE sync_runs ADD COLUMN last_page jsonb;
