-- Deploy zkeb:function_api_whoami to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.whoami(session_token bytea)
RETURNS TABLE (
    user_id uuid,
    storage_quota_bytes bigint,
    storage_used_bytes bigint,
    account_status text)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(whoami.session_token);
    RETURN QUERY
    SELECT u.user_id, u.storage_quota_bytes, u.storage_used_bytes, u.account_status
      FROM zkeb.users AS u
     WHERE u.user_id = _uid;
END
$$;

COMMENT ON FUNCTION zkeb_api.whoami(bytea) IS
    'Return the caller''s account id, quota, used bytes and status. Errors: ZK401 no valid session; ZK403 account suspended.';
REVOKE ALL ON FUNCTION zkeb_api.whoami(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.whoami(bytea) TO zkeb_app;

COMMIT;
