-- Deploy zkeb:function_private_audit_reader_active to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- PL/pgSQL for the same reason as maintenance_active (plan kept across calls).
CREATE FUNCTION zkeb_private.audit_reader_active()
RETURNS boolean
LANGUAGE plpgsql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN pg_catalog.current_setting('zkeb.audit_reader', true) IS NOT DISTINCT FROM 'on'
       AND (pg_catalog.pg_has_role(session_user, 'zkeb_auditor', 'MEMBER')
            OR pg_catalog.pg_has_role(session_user, 'zkeb_maintainer', 'MEMBER'));
END
$$;

COMMENT ON FUNCTION zkeb_private.audit_reader_active() IS
    'True inside an audit-reading context opened by a member of zkeb_auditor or zkeb_maintainer.';
REVOKE ALL ON FUNCTION zkeb_private.audit_reader_active() FROM PUBLIC;

COMMIT;
