-- Deploy zkeb:function_api_get_backup to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: function_private_audit
-- requires: policy_audit_logs
-- requires: function_private_settings
-- requires: policy_settings
-- requires: policy_devices
-- requires: policy_encrypted_backups
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.get_backup(session_token bytea, backup_id uuid)
RETURNS TABLE (
    ciphertext bytea,
    nonce bytea,
    auth_tag bytea,
    signature bytea,
    device_id uuid,
    public_key bytea,
    key_algorithm text,
    created_at timestamp with time zone)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(get_backup.session_token);
    IF get_backup.backup_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'backup_id must not be NULL';
    END IF;
    RETURN QUERY
    SELECT b.ciphertext, b.nonce, b.auth_tag, b.signature, b.device_id, d.public_key,
           b.key_algorithm, b.created_at
      FROM zkeb.encrypted_backups AS b
      JOIN zkeb.devices AS d ON d.user_id = b.user_id AND d.device_id = b.device_id
     WHERE b.user_id = _uid
       AND d.user_id = _uid
       AND b.backup_id = get_backup.backup_id
       AND b.deleted_at IS NULL
       AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now());
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK404', MESSAGE = 'no such backup';
    END IF;
    IF (SELECT s.audit_downloads FROM zkeb_private.settings AS s WHERE s.id) THEN
        PERFORM zkeb_private.audit(_uid, 'backup_download', true,
            pg_catalog.jsonb_build_object('backup_id', get_backup.backup_id));
    END IF;
END
$$;

COMMENT ON FUNCTION zkeb_api.get_backup(bytea, uuid) IS
    'Return a live backup with what is needed to verify and decrypt it: ciphertext, nonce, auth tag, signature and the signing device''s public key; trashed and expired backups are not found. Errors: ZK401 no valid session; ZK403 account suspended; ZK404 no live backup with this id for this user; ZK422 backup_id is NULL.';
REVOKE ALL ON FUNCTION zkeb_api.get_backup(bytea, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.get_backup(bytea, uuid) TO zkeb_app;

COMMIT;
