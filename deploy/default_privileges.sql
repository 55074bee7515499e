-- Deploy zkeb:default_privileges to pg
-- requires: roles
-- Functions are created by zkeb_owner (deploy scripts SET LOCAL ROLE
-- zkeb_owner). The global form of ALTER DEFAULT PRIVILEGES is the only one
-- that can revoke the built-in EXECUTE for PUBLIC.
BEGIN;

ALTER DEFAULT PRIVILEGES FOR ROLE zkeb_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE zkeb_owner REVOKE USAGE ON TYPES FROM PUBLIC;

COMMIT;
