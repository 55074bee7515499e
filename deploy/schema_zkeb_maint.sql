-- Deploy zkeb:schema_zkeb_maint to pg
-- requires: roles
BEGIN;

CREATE SCHEMA zkeb_maint AUTHORIZATION zkeb_owner;
COMMENT ON SCHEMA zkeb_maint IS 'zkeb-db maintenance: cleanup, retention, quota admin, audit chain checks; for zkeb_maintainer (and zkeb_auditor for the chain checks).';
REVOKE ALL ON SCHEMA zkeb_maint FROM PUBLIC;
GRANT USAGE ON SCHEMA zkeb_maint TO zkeb_maintainer, zkeb_auditor;

COMMIT;
