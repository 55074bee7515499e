-- Revert zkeb:roles from pg
-- Other databases in the cluster may still use the roles: drop a role only
-- when no other database holds objects or privileges of it and it has no
-- members; otherwise leave it (and say so).
BEGIN;

DO $$
DECLARE
    _role text;
BEGIN
    FOREACH _role IN ARRAY ARRAY['zkeb_auditor', 'zkeb_maintainer', 'zkeb_app', 'zkeb_owner'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = _role);
        IF EXISTS (
                SELECT 1 FROM pg_catalog.pg_shdepend d
                 WHERE d.refclassid = 'pg_catalog.pg_authid'::regclass
                   AND d.refobjid = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = _role)
                   AND d.dbid <> (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
           OR EXISTS (
                SELECT 1 FROM pg_catalog.pg_auth_members m
                 WHERE m.roleid = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = _role)) THEN
            RAISE NOTICE 'role % is still used elsewhere in the cluster; kept', _role;
        ELSE
            EXECUTE format('DROP OWNED BY %I', _role);
            EXECUTE format('DROP ROLE %I', _role);
        END IF;
    END LOOP;
END
$$;

COMMIT;
