-- Deploy zkeb:schema_zkeb to pg
-- requires: roles
BEGIN;

CREATE SCHEMA zkeb AUTHORIZATION zkeb_owner;
COMMENT ON SCHEMA zkeb IS 'zkeb-db tables. Nobody but the owner touches them: no table privilege is granted to any role.';
REVOKE ALL ON SCHEMA zkeb FROM PUBLIC;


COMMIT;
