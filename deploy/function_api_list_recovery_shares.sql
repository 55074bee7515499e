-- Deploy zkeb:function_api_list_recovery_shares to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: policy_recovery_shares
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.list_recovery_shares(session_token bytea)
RETURNS TABLE (
    recovery_set_id uuid,
    guardian_hash bytea,
    share_index integer,
    threshold integer,
    total_shares integer,
    encrypted_share bytea,
    created_at timestamp with time zone)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(list_recovery_shares.session_token);
    RETURN QUERY
    SELECT r.recovery_set_id, r.guardian_hash, r.share_index, r.threshold, r.total_shares,
           r.encrypted_share, r.created_at
      FROM zkeb.recovery_shares AS r
     WHERE r.user_id = _uid
     ORDER BY r.share_index;
END
$$;

COMMENT ON FUNCTION zkeb_api.list_recovery_shares(bytea) IS
    'List the shares of the caller''s current recovery set, by share index. Errors: ZK401 no valid session; ZK403 account suspended.';
REVOKE ALL ON FUNCTION zkeb_api.list_recovery_shares(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.list_recovery_shares(bytea) TO zkeb_app;

COMMIT;
