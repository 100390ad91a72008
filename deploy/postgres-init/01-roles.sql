-- Switchyard roles and database, for the postgres:16 container of deploy/compose.yaml.
--
-- The official image runs this once, as the superuser, when its data directory is empty (psql with
-- ON_ERROR_STOP). The passwords come from the postgres container's environment (set in compose.yaml)
-- through psql's \getenv, so they are written in one place only; an unset variable makes this script
-- fail instead of creating a role without a password.
--
--   switchyard_owner  LOGIN CREATEROLE, owns database `switchyard`: runs `switchyard migrate` and owns
--                     every table. (CREATEROLE is only needed if switchyard_app does not exist yet;
--                     it is kept so a fresh database can be migrated without this script too.)
--   switchyard_app    NOLOGIN group role that holds the table grants. Migration 0001 would create it,
--                     but it must exist before switchyard_api can be made a member, and 0001 leaves an
--                     existing role alone.
--   switchyard_api    LOGIN member of switchyard_app used by `serve`: not superuser, not BYPASSRLS,
--                     owns nothing, so row-level security applies to it.

\set ON_ERROR_STOP on
\getenv owner_password SWITCHYARD_OWNER_PASSWORD
\getenv api_password SWITCHYARD_API_PASSWORD

CREATE ROLE switchyard_owner LOGIN CREATEROLE PASSWORD :'owner_password';

CREATE ROLE switchyard_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;

CREATE ROLE switchyard_api LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
    PASSWORD :'api_password'
    IN ROLE switchyard_app;

-- The database owner may create objects in its `public` schema (PostgreSQL 15+: public is owned by
-- pg_database_owner) and grant USAGE on it, which is all the migrations need.
CREATE DATABASE switchyard OWNER switchyard_owner;
