-- Deploy zkeb:function_api_storage_usage to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: policy_encrypted_backups
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.storage_usage(session_token bytea)
RETURNS TABLE (
    storage_quota_bytes bigint,
    storage_used_bytes bigint,
    backup_count bigint,
    trashed_count bigint)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(storage_usage.session_token);
    RETURN QUERY
    SELECT u.storage_quota_bytes, u.storage_used_bytes,
           (SELECT pg_catalog.count(*) FROM zkeb.encrypted_backups AS b
             WHERE b.user_id = _uid AND b.deleted_at IS NULL AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now())),
           (SELECT pg_catalog.count(*) FROM zkeb.encrypted_backups AS b
             WHERE b.user_id = _uid AND b.deleted_at IS NOT NULL AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now()))
      FROM zkeb.users AS u
     WHERE u.user_id = _uid;
END
$$;

COMMENT ON FUNCTION zkeb_api.storage_usage(bytea) IS
    'Return the caller''s quota, used bytes (live and trash) and the number of live and trashed backups (expired ones are not counted). Errors: ZK401 no valid session; ZK403 account suspended.';
REVOKE ALL ON FUNCTION zkeb_api.storage_usage(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.storage_usage(bytea) TO zkeb_app;

COMMIT;
