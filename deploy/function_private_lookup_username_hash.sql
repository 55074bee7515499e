-- Deploy zkeb:function_private_lookup_username_hash to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Pre-session context: 64 lower-case hex digits (what begin_lookup writes),
-- else NULL. Called in the lookup branches of the policies, so cheap: an
-- empty context (every session call) is one length test.
CREATE FUNCTION zkeb_private.lookup_username_hash()
RETURNS bytea
LANGUAGE plpgsql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _hex text := pg_catalog.current_setting('zkeb.lookup_username_hash', true);
BEGIN
    RETURN CASE WHEN pg_catalog.length(_hex) = 64
                     AND pg_catalog.ltrim(_hex, '0123456789abcdef') = ''
                THEN pg_catalog.decode(_hex, 'hex') END;
END
$$;

COMMENT ON FUNCTION zkeb_private.lookup_username_hash() IS
    'Username hash of the pre-session lookup context, or NULL.';
REVOKE ALL ON FUNCTION zkeb_private.lookup_username_hash() FROM PUBLIC;

COMMIT;
