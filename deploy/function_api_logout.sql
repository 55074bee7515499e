-- Deploy zkeb:function_api_logout to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: function_private_audit
-- requires: policy_audit_logs
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.logout(session_token bytea)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(logout.session_token);
    PERFORM zkeb_private.audit(_uid, 'logout', true, '{}'::jsonb);
    -- Last: every statement after this one would run without a session.
    UPDATE zkeb.sessions AS s
       SET revoked_at = pg_catalog.now()
     WHERE s.user_id = _uid
       AND s.token_hash = pg_catalog.sha256(logout.session_token)
       AND s.revoked_at IS NULL;
    -- The session ends here: forget the one begin_session validated, so any
    -- later statement in this transaction falls back to the full check (and
    -- finds the session revoked).
    PERFORM pg_catalog.set_config('zkeb.session_checked', '', true),
            pg_catalog.set_config('zkeb.session_user_id', '', true),
            pg_catalog.set_config('zkeb.session_audit_hash', '', true);
END
$$;

COMMENT ON FUNCTION zkeb_api.logout(bytea) IS
    'End the current session; its token is refused from the next transaction on. Errors: ZK401 no valid session; ZK403 account suspended.';
REVOKE ALL ON FUNCTION zkeb_api.logout(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.logout(bytea) TO zkeb_app;

COMMIT;
