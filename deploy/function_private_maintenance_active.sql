-- Deploy zkeb:function_private_maintenance_active to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- The context alone is a claim anybody can make; membership of the login
-- role (session_user, which SECURITY DEFINER does not change) is the proof.
CREATE FUNCTION zkeb_private.maintenance_active()
RETURNS boolean
LANGUAGE sql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.current_setting('zkeb.maintenance', true) IS NOT DISTINCT FROM 'on'
       AND pg_catalog.pg_has_role(session_user, 'zkeb_maintainer', 'MEMBER')
$$;

COMMENT ON FUNCTION zkeb_private.maintenance_active() IS
    'True inside a maintenance context opened by a member of zkeb_maintainer.';
REVOKE ALL ON FUNCTION zkeb_private.maintenance_active() FROM PUBLIC;

COMMIT;
