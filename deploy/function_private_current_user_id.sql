-- Deploy zkeb:function_private_current_user_id to pg
-- requires: table_sessions
-- requires: function_private_claimed_user_id
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- The tenant of every policy. Fails closed: anything but a valid, unexpired,
-- unrevoked session for the token in the transaction context gives NULL,
-- which matches no row. (A context left over on a reused backend reads as
-- '' and is treated as missing.)
CREATE FUNCTION zkeb_private.current_user_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _hex text := pg_catalog.current_setting('zkeb.session_token', true);
    _claimed uuid;
    _uid uuid;
BEGIN
    IF _hex IS NULL OR _hex !~ '^[0-9a-f]{96}$' THEN
        RETURN NULL;
    END IF;
    _claimed := pg_catalog.substr(_hex, 1, 32)::uuid;
    SELECT s.user_id INTO _uid
      FROM zkeb.sessions AS s
     WHERE s.user_id = _claimed
       AND s.token_hash = pg_catalog.sha256(pg_catalog.decode(_hex, 'hex'))
       AND s.revoked_at IS NULL
       AND s.expires_at > pg_catalog.now();
    RETURN _uid;
END
$$;

COMMENT ON FUNCTION zkeb_private.current_user_id() IS
    'User id of the valid session whose token is in the transaction context, or NULL (fails closed).';
REVOKE ALL ON FUNCTION zkeb_private.current_user_id() FROM PUBLIC;

COMMIT;
