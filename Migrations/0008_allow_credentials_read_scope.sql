-- API keys may carry `credentials:read`, which allows reading integrations' usable credentials.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check
    CHECK (scopes <@ ARRAY['read', 'write', 'credentials:read']::text[] AND cardinality(scopes) > 0);
