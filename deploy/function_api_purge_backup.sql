-- Deploy zkeb:function_api_purge_backup to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: function_private_audit
-- requires: policy_audit_logs
-- requires: policy_encrypted_backups
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.purge_backup(session_token bytea, backup_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
    _size bigint;
BEGIN
    _uid := zkeb_private.begin_session(purge_backup.session_token);
    IF purge_backup.backup_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'backup_id must not be NULL';
    END IF;
    DELETE FROM zkeb.encrypted_backups AS b
     WHERE b.user_id = _uid
       AND b.backup_id = purge_backup.backup_id
       AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now())
    RETURNING b.size_bytes INTO _size;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK404', MESSAGE = 'no such backup';
    END IF;
    -- The bytes go back in the same transaction as the delete.
    UPDATE zkeb.users AS u
       SET storage_used_bytes = u.storage_used_bytes - _size
     WHERE u.user_id = _uid;
    PERFORM zkeb_private.audit(_uid, 'backup_purge', true,
        pg_catalog.jsonb_build_object('backup_id', purge_backup.backup_id, 'size_bytes', _size));
END
$$;

COMMENT ON FUNCTION zkeb_api.purge_backup(bytea, uuid) IS
    'Delete a backup (live or trashed) for good now and give its bytes back to the quota. Errors: ZK401 no valid session; ZK403 account suspended; ZK404 no such (unexpired) backup for this user; ZK422 backup_id is NULL.';
REVOKE ALL ON FUNCTION zkeb_api.purge_backup(bytea, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.purge_backup(bytea, uuid) TO zkeb_app;

COMMIT;
