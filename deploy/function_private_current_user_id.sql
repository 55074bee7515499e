-- Deploy zkeb:function_private_current_user_id to pg
-- requires: table_sessions
-- requires: function_private_claimed_user_id
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- The tenant of every policy. Fails closed: anything but a valid, unexpired,
-- unrevoked session for the token in the transaction context gives NULL,
-- which matches no row. (A context left over on a reused backend reads as
-- '' and is treated as missing.)
--
-- The full check (a sessions read) runs once per API call: begin_session
-- runs it, then records the token it validated in zkeb.session_checked and
-- the user in zkeb.session_user_id. Every later statement of the call (each
-- policy evaluates this helper once per statement) only compares the token in
-- the context with the validated one. Every begin_* helper clears both first,
-- so values set by hand before a call are never trusted, and logout,
-- revoke_device and delete_account clear them right after revoking, so the
-- statements after a revocation fall back to the full check and see no
-- session. Outside an API call the cache is empty and the full check runs.
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
    IF _hex IS NULL OR pg_catalog.length(_hex) <> 96 THEN
        RETURN NULL;
    END IF;
    IF _hex = pg_catalog.current_setting('zkeb.session_checked', true) THEN
        RETURN NULLIF(pg_catalog.current_setting('zkeb.session_user_id', true), '')::uuid;
    END IF;
    -- Lower-case hex only (what begin_session writes); no regex, see claimed_user_id.
    IF pg_catalog.ltrim(_hex, '0123456789abcdef') <> '' THEN
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
    'User id of the valid session whose token is in the transaction context, or NULL (fails closed); within an API call, the session begin_session validated for that token.';
REVOKE ALL ON FUNCTION zkeb_private.current_user_id() FROM PUBLIC;

COMMIT;
