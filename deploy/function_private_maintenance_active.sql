-- Deploy zkeb:function_private_maintenance_active to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- The context alone is a claim anybody can make; membership of the login
-- role (session_user, which SECURITY DEFINER does not change) is the proof.
-- PL/pgSQL, not SQL: with its pinned search_path a SQL function is never
-- inlined and is planned again in every statement whose policy calls it
-- (the sessions policy does, on every session check); PL/pgSQL keeps its plan.
CREATE FUNCTION zkeb_private.maintenance_active()
RETURNS boolean
LANGUAGE plpgsql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN pg_catalog.current_setting('zkeb.maintenance', true) IS NOT DISTINCT FROM 'on'
       AND pg_catalog.pg_has_role(session_user, 'zkeb_maintainer', 'MEMBER');
END
$$;

COMMENT ON FUNCTION zkeb_private.maintenance_active() IS
    'True inside a maintenance context opened by a member of zkeb_maintainer.';
REVOKE ALL ON FUNCTION zkeb_private.maintenance_active() FROM PUBLIC;

COMMIT;
