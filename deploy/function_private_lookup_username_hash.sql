-- Deploy zkeb:function_private_lookup_username_hash to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_private.lookup_username_hash()
RETURNS bytea
LANGUAGE plpgsql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _hex text := pg_catalog.current_setting('zkeb.lookup_username_hash', true);
BEGIN
    IF _hex IS NULL OR _hex !~ '^[0-9a-f]{64}$' THEN
        RETURN NULL;
    END IF;
    RETURN pg_catalog.decode(_hex, 'hex');
END
$$;

COMMENT ON FUNCTION zkeb_private.lookup_username_hash() IS
    'Username hash of the pre-session lookup context, or NULL.';
REVOKE ALL ON FUNCTION zkeb_private.lookup_username_hash() FROM PUBLIC;

COMMIT;
