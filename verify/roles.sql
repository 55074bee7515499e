-- Verify zkeb:roles on pg
BEGIN;

DO $$
BEGIN
    IF (SELECT count(*) FROM pg_catalog.pg_roles
         WHERE rolname IN ('zkeb_owner', 'zkeb_app', 'zkeb_maintainer', 'zkeb_auditor')) <> 4 THEN
        RAISE EXCEPTION 'verify roles: a zkeb group role is missing';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles
                WHERE rolname IN ('zkeb_owner', 'zkeb_app', 'zkeb_maintainer', 'zkeb_auditor')
                  AND (rolcanlogin OR rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb)) THEN
        RAISE EXCEPTION 'verify roles: a zkeb group role can log in or has elevated attributes';
    END IF;
END
$$;

ROLLBACK;
