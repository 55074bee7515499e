-- Deploy zkeb:function_private_lookup_user_id to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Pre-session context: a uuid in its canonical text form (what begin_lookup
-- writes), else NULL. Called in the lookup branches of the policies, so
-- cheap: an empty context (every session call) is one length test.
CREATE FUNCTION zkeb_private.lookup_user_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _txt text := pg_catalog.current_setting('zkeb.lookup_user_id', true);
BEGIN
    RETURN CASE WHEN pg_catalog.length(_txt) = 36
                     AND pg_catalog.translate(_txt, '0123456789abcdef', '0000000000000000')
                         = '00000000-0000-0000-0000-000000000000'
                THEN _txt::uuid END;
END
$$;

COMMENT ON FUNCTION zkeb_private.lookup_user_id() IS
    'User id of the pre-session lookup context, or NULL.';
REVOKE ALL ON FUNCTION zkeb_private.lookup_user_id() FROM PUBLIC;

COMMIT;
