-- Deploy zkeb:function_private_lookup_user_id to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_private.lookup_user_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _txt text := pg_catalog.current_setting('zkeb.lookup_user_id', true);
BEGIN
    IF _txt IS NULL OR _txt !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RETURN NULL;
    END IF;
    RETURN _txt::uuid;
END
$$;

COMMENT ON FUNCTION zkeb_private.lookup_user_id() IS
    'User id of the pre-session lookup context, or NULL.';
REVOKE ALL ON FUNCTION zkeb_private.lookup_user_id() FROM PUBLIC;

COMMIT;
