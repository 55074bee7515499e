-- Deploy zkeb:function_private_begin_maintenance to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_private.begin_maintenance()
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_catalog.set_config('zkeb.session_token', '', true),
            pg_catalog.set_config('zkeb.session_checked', '', true),
            pg_catalog.set_config('zkeb.session_user_id', '', true),
            pg_catalog.set_config('zkeb.session_audit_hash', '', true),
            pg_catalog.set_config('zkeb.lookup_username_hash', '', true),
            pg_catalog.set_config('zkeb.lookup_user_id', '', true),
            pg_catalog.set_config('zkeb.audit_reader', '', true);
    IF NOT pg_catalog.pg_has_role(session_user, 'zkeb_maintainer', 'MEMBER') THEN
        PERFORM pg_catalog.set_config('zkeb.maintenance', '', true);
        RAISE EXCEPTION USING ERRCODE = 'ZK403', MESSAGE = 'maintenance needs a member of zkeb_maintainer';
    END IF;
    PERFORM pg_catalog.set_config('zkeb.maintenance', 'on', true);
END
$$;

COMMENT ON FUNCTION zkeb_private.begin_maintenance() IS
    'Enter the maintenance context. Errors: ZK403 when the login role is not a member of zkeb_maintainer.';
REVOKE ALL ON FUNCTION zkeb_private.begin_maintenance() FROM PUBLIC;

COMMIT;
