-- Deploy zkeb:function_private_begin_session to pg
-- requires: function_private_current_user_id
-- requires: table_users
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- First statement of every session API function: make the token the
-- transaction's tenant context (and nothing else), then insist on a valid
-- session of an active account.
--
-- The token is fully checked once, here (current_user_id() with the session
-- cache empty: hash, expiry, revocation). Then the validated token and its
-- user are recorded in zkeb.session_checked and zkeb.session_user_id, so every
-- later statement of the call only compares the context with the validated
-- token (see current_user_id). The first statement clears every context and
-- the cache (zkeb.session_audit_hash too, which audit_append fills), so
-- nothing set by hand before the call is trusted.
CREATE FUNCTION zkeb_private.begin_session(session_token bytea)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _hex text := CASE WHEN octet_length(session_token) = 48
                      THEN pg_catalog.encode(session_token, 'hex') ELSE '' END;
    _uid uuid;
    _status text;
BEGIN
    PERFORM pg_catalog.set_config('zkeb.session_checked', '', true),
            pg_catalog.set_config('zkeb.session_user_id', '', true),
            pg_catalog.set_config('zkeb.session_audit_hash', '', true),
            pg_catalog.set_config('zkeb.lookup_username_hash', '', true),
            pg_catalog.set_config('zkeb.lookup_user_id', '', true),
            pg_catalog.set_config('zkeb.maintenance', '', true),
            pg_catalog.set_config('zkeb.audit_reader', '', true),
            pg_catalog.set_config('zkeb.session_token', _hex, true);
    IF _hex = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK401', MESSAGE = 'no valid session';
    END IF;
    _uid := zkeb_private.current_user_id();
    IF _uid IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK401', MESSAGE = 'no valid session';
    END IF;
    PERFORM pg_catalog.set_config('zkeb.session_user_id', _uid::text, true),
            pg_catalog.set_config('zkeb.session_checked', _hex, true);
    SELECT u.account_status INTO _status FROM zkeb.users AS u WHERE u.user_id = _uid;
    IF _status IS DISTINCT FROM 'active' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK403', MESSAGE = 'account is suspended';
    END IF;
    RETURN _uid;
END
$$;

COMMENT ON FUNCTION zkeb_private.begin_session(bytea) IS
    'Make session_token the transaction''s tenant context and return its user id. Errors: ZK401 no valid session; ZK403 account suspended.';
REVOKE ALL ON FUNCTION zkeb_private.begin_session(bytea) FROM PUBLIC;

COMMIT;
