-- Deploy zkeb:function_api_delete_account to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: function_private_audit
-- requires: policy_audit_logs
-- requires: function_private_audit_user_hash
-- requires: policy_devices
-- requires: policy_encrypted_backups
-- requires: policy_recovery_shares
-- requires: policy_sync_metadata
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- The erasure itself is one statement: every delete in it sees the session the
-- call started with, and the foreign keys are checked when all of it is done.
CREATE FUNCTION zkeb_api.delete_account(session_token bytea)
RETURNS TABLE (erasure_receipt jsonb)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
    _counts jsonb;
    _erased jsonb;
    _event_id bigint;
    _head bytea;
BEGIN
    _uid := zkeb_private.begin_session(delete_account.session_token);
    -- Devices first, then the account row: the order create_backup and
    -- sync_push take them in, so a concurrent write finishes (and is erased)
    -- or sees no device.
    PERFORM 1 FROM zkeb.devices AS d WHERE d.user_id = _uid ORDER BY d.device_id FOR UPDATE;
    PERFORM 1 FROM zkeb.users AS u WHERE u.user_id = _uid FOR UPDATE;
    SELECT pg_catalog.jsonb_build_object(
               'users', 1,
               'devices', (SELECT pg_catalog.count(*) FROM zkeb.devices AS d WHERE d.user_id = _uid),
               'sessions', (SELECT pg_catalog.count(*) FROM zkeb.sessions AS s WHERE s.user_id = _uid),
               'encrypted_backups',
                   (SELECT pg_catalog.count(*) FROM zkeb.encrypted_backups AS b WHERE b.user_id = _uid),
               'recovery_shares',
                   (SELECT pg_catalog.count(*) FROM zkeb.recovery_shares AS r WHERE r.user_id = _uid),
               'sync_metadata',
                   (SELECT pg_catalog.count(*) FROM zkeb.sync_metadata AS m WHERE m.user_id = _uid))
      INTO _counts;
    -- The audit event comes first: after the erasure there is no session.
    PERFORM zkeb_private.audit(_uid, 'account_delete', true,
                               pg_catalog.jsonb_build_object('rows_erased', _counts));
    SELECT u.audit_event_id, u.audit_head INTO _event_id, _head
      FROM zkeb.users AS u
     WHERE u.user_id = _uid;
    WITH del_backups AS (
             DELETE FROM zkeb.encrypted_backups AS b WHERE b.user_id = _uid RETURNING 1),
         del_shares AS (
             DELETE FROM zkeb.recovery_shares AS r WHERE r.user_id = _uid RETURNING 1),
         del_sync AS (
             DELETE FROM zkeb.sync_metadata AS m WHERE m.user_id = _uid RETURNING 1),
         del_sessions AS (
             DELETE FROM zkeb.sessions AS s WHERE s.user_id = _uid RETURNING 1),
         del_devices AS (
             DELETE FROM zkeb.devices AS d WHERE d.user_id = _uid RETURNING 1),
         del_users AS (
             DELETE FROM zkeb.users AS u WHERE u.user_id = _uid RETURNING 1)
    SELECT pg_catalog.jsonb_build_object(
               'users', (SELECT pg_catalog.count(*) FROM del_users),
               'devices', (SELECT pg_catalog.count(*) FROM del_devices),
               'sessions', (SELECT pg_catalog.count(*) FROM del_sessions),
               'encrypted_backups', (SELECT pg_catalog.count(*) FROM del_backups),
               'recovery_shares', (SELECT pg_catalog.count(*) FROM del_shares),
               'sync_metadata', (SELECT pg_catalog.count(*) FROM del_sync))
      INTO _erased;
    -- The session is gone with the account: forget the one begin_session
    -- validated, so any later statement in this transaction finds none.
    PERFORM pg_catalog.set_config('zkeb.session_checked', '', true),
            pg_catalog.set_config('zkeb.session_user_id', '', true),
            pg_catalog.set_config('zkeb.session_audit_hash', '', true);
    erasure_receipt := pg_catalog.jsonb_build_object(
        'user_hash', pg_catalog.encode(zkeb_private.audit_user_hash(_uid), 'hex'),
        'erased_at', pg_catalog.now(),
        'rows_erased', _erased,
        'last_audit_event_id', _event_id,
        'last_audit_hash', pg_catalog.encode(_head, 'hex'));
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION zkeb_api.delete_account(bytea) IS
    'Erase every row of the caller''s account in one transaction (only its pseudonymised audit chain remains) and return the erasure receipt: user hash, time, rows erased per table, last audit event and hash. Errors: ZK401 no valid session; ZK403 account suspended.';
REVOKE ALL ON FUNCTION zkeb_api.delete_account(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.delete_account(bytea) TO zkeb_app;

COMMIT;
