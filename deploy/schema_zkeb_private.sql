-- Deploy zkeb:schema_zkeb_private to pg
-- requires: roles
BEGIN;

CREATE SCHEMA zkeb_private AUTHORIZATION zkeb_owner;
COMMENT ON SCHEMA zkeb_private IS 'zkeb-db helpers (tenant context, hashing, audit writer). Called only by the owner''s functions.';
REVOKE ALL ON SCHEMA zkeb_private FROM PUBLIC;


COMMIT;
