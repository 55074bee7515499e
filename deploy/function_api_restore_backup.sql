-- Deploy zkeb:function_api_restore_backup to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: function_private_audit
-- requires: policy_audit_logs
-- requires: policy_encrypted_backups
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.restore_backup(session_token bytea, backup_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(restore_backup.session_token);
    IF restore_backup.backup_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'backup_id must not be NULL';
    END IF;
    UPDATE zkeb.encrypted_backups AS b
       SET deleted_at = NULL
     WHERE b.user_id = _uid
       AND b.backup_id = restore_backup.backup_id
       AND b.deleted_at IS NOT NULL
       AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now());
    IF NOT FOUND THEN
        PERFORM 1 FROM zkeb.encrypted_backups AS b
         WHERE b.user_id = _uid AND b.backup_id = restore_backup.backup_id AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now());
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'ZK404', MESSAGE = 'no such backup';
        END IF;
        -- Not in the trash: nothing to do.
        RETURN;
    END IF;
    PERFORM zkeb_private.audit(_uid, 'backup_restore', true,
        pg_catalog.jsonb_build_object('backup_id', restore_backup.backup_id));
END
$$;

COMMENT ON FUNCTION zkeb_api.restore_backup(bytea, uuid) IS
    'Bring a backup back from the trash; restoring a live backup is a no-op. Errors: ZK401 no valid session; ZK403 account suspended; ZK404 no such (unexpired) backup for this user; ZK422 backup_id is NULL.';
REVOKE ALL ON FUNCTION zkeb_api.restore_backup(bytea, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.restore_backup(bytea, uuid) TO zkeb_app;

COMMIT;
