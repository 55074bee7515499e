-- Deploy zkeb:function_api_revoke_device to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: function_private_audit
-- requires: policy_audit_logs
-- requires: policy_devices
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.revoke_device(session_token bytea, device_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(revoke_device.session_token);
    IF revoke_device.device_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'device_id must not be NULL';
    END IF;
    UPDATE zkeb.devices AS d
       SET revoked_at = pg_catalog.now()
     WHERE d.user_id = _uid
       AND d.device_id = revoke_device.device_id
       AND d.revoked_at IS NULL;
    IF NOT FOUND THEN
        PERFORM 1 FROM zkeb.devices AS d
         WHERE d.user_id = _uid AND d.device_id = revoke_device.device_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'ZK404', MESSAGE = 'no such device';
        END IF;
        -- Already revoked (and its sessions ended then): nothing to do.
        RETURN;
    END IF;
    -- The audit write takes the account row lock that login holds while it
    -- checks a device, so no session of this device opens unseen.
    PERFORM zkeb_private.audit(_uid, 'device_revoke', true,
        pg_catalog.jsonb_build_object('device_id', revoke_device.device_id));
    -- Last: this may end the caller's own session.
    UPDATE zkeb.sessions AS s
       SET revoked_at = pg_catalog.now()
     WHERE s.user_id = _uid
       AND s.device_id = revoke_device.device_id
       AND s.revoked_at IS NULL;
    -- Forget the session begin_session validated: when it was bound to this
    -- device it has just ended, and any later statement in this transaction
    -- must find that out with the full check.
    PERFORM pg_catalog.set_config('zkeb.session_checked', '', true),
            pg_catalog.set_config('zkeb.session_user_id', '', true),
            pg_catalog.set_config('zkeb.session_audit_hash', '', true);
END
$$;

COMMENT ON FUNCTION zkeb_api.revoke_device(bytea, uuid) IS
    'Revoke a device and, in the same transaction, end its sessions (the caller''s own too, if bound to it); revoking a revoked device is a no-op. Errors: ZK401 no valid session; ZK403 account suspended; ZK404 no such device for this user; ZK422 device_id is NULL.';
REVOKE ALL ON FUNCTION zkeb_api.revoke_device(bytea, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.revoke_device(bytea, uuid) TO zkeb_app;

COMMIT;
