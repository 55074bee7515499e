-- Deploy zkeb:function_private_claimed_user_id to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- The user id a token claims (its first 16 bytes), parsed without reading any
-- table: the sessions policy uses it, so the session lookup cannot recurse.
CREATE FUNCTION zkeb_private.claimed_user_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _hex text := pg_catalog.current_setting('zkeb.session_token', true);
BEGIN
    -- 96 lower-case hex digits (what begin_session writes), else NULL. A
    -- length test and ltrim() instead of a regular expression: this runs in
    -- the sessions policy, and the regex cost more than the rest together.
    RETURN CASE WHEN pg_catalog.length(_hex) = 96
                     AND pg_catalog.ltrim(_hex, '0123456789abcdef') = ''
                THEN pg_catalog.substr(_hex, 1, 32)::uuid END;
END
$$;

COMMENT ON FUNCTION zkeb_private.claimed_user_id() IS
    'User id claimed by the session token in the transaction context (its first 16 bytes), or NULL; reads no table.';
REVOKE ALL ON FUNCTION zkeb_private.claimed_user_id() FROM PUBLIC;

COMMIT;
