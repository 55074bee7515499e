-- Deploy zkeb:privileges_database to pg
-- requires: roles
-- No TEMP for the application role: with no temporary schema there is no
-- pg_temp shadowing at all. TEMPORARY is a database privilege held by PUBLIC
-- by default, so revoke it from PUBLIC. (CREATE DATABASE ... TEMPLATE does
-- not copy database privileges: re-apply this on a cloned database.)
BEGIN;

DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('REVOKE CREATE ON DATABASE %I FROM PUBLIC', current_database());
END
$$;

-- PostgreSQL 15 already denies CREATE on schema public to PUBLIC; assert it
-- in case the database was created from an older template.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

COMMIT;
