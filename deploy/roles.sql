-- Deploy zkeb:roles to pg
-- Roles are cluster-wide and shared by every database that deploys zkeb, so
-- create them only when missing and (re)assert their attributes.
BEGIN;

DO $$
DECLARE
    _role text;
BEGIN
    FOREACH _role IN ARRAY ARRAY['zkeb_owner', 'zkeb_app', 'zkeb_maintainer', 'zkeb_auditor'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = _role) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', _role);
        END IF;
        -- Only touch attributes that are wrong: a deployer with CREATEROLE (not
        -- superuser) may not even name SUPERUSER/BYPASSRLS/REPLICATION.
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles
                    WHERE rolname = _role
                      AND (rolcanlogin OR rolsuper OR rolcreatedb OR rolcreaterole
                           OR rolbypassrls OR rolreplication OR NOT rolinherit)) THEN
            EXECUTE format(
                'ALTER ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION INHERIT',
                _role);
        END IF;
    END LOOP;
END
$$;

COMMENT ON ROLE zkeb_owner IS 'zkeb-db: owns every zkeb object; NOLOGIN, not superuser, no BYPASSRLS.';
COMMENT ON ROLE zkeb_app IS 'zkeb-db: application group role; may only EXECUTE zkeb_api functions.';
COMMENT ON ROLE zkeb_maintainer IS 'zkeb-db: maintenance group role; may only EXECUTE zkeb_maint functions.';
COMMENT ON ROLE zkeb_auditor IS 'zkeb-db: auditor group role; may only verify and export the audit chain.';

COMMIT;
