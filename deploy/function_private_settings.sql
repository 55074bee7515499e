-- Deploy zkeb:function_private_settings to pg
-- requires: table_settings
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_private.settings()
RETURNS zkeb_private.settings
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s FROM zkeb_private.settings AS s WHERE s.id
$$;

COMMENT ON FUNCTION zkeb_private.settings() IS
    'The deployment settings row (owner only).';
REVOKE ALL ON FUNCTION zkeb_private.settings() FROM PUBLIC;

COMMIT;
