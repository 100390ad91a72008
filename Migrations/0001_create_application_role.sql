-- The role the serving processes use (REQUIREMENTS PG-1): no login of its own, no superuser,
-- no BYPASSRLS, owns nothing. Deployments log in as a member of it, for example:
--   CREATE ROLE switchyard_api LOGIN PASSWORD '...' IN ROLE switchyard_app;
-- The migration owner needs CREATEROLE only if the role does not exist yet.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'switchyard_app') THEN
        CREATE ROLE switchyard_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
EXCEPTION
    -- Two databases of one cluster migrating at once race on this cluster-wide name.
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

GRANT USAGE ON SCHEMA public TO switchyard_app;
GRANT SELECT ON schema_migrations TO switchyard_app;

-- The tenant of the current transaction, set by `Database.withTenant` with set_config(..., true)
-- (REQUIREMENTS PG-3). NULL when unset, including on a pooled connection after commit or rollback.
CREATE FUNCTION app_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

-- True inside `Database.withOperator`: the platform operator's cross-tenant view.
CREATE FUNCTION app_is_operator() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('app.operator', true), '') = 'on' $$;
