-- Deploy zkeb:schema_zkeb_api to pg
-- requires: roles
BEGIN;

CREATE SCHEMA zkeb_api AUTHORIZATION zkeb_owner;
COMMENT ON SCHEMA zkeb_api IS 'zkeb-db public API: SECURITY DEFINER functions executable by zkeb_app.';
REVOKE ALL ON SCHEMA zkeb_api FROM PUBLIC;
GRANT USAGE ON SCHEMA zkeb_api TO zkeb_app;

COMMIT;
