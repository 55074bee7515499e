-- Deploy zkeb:function_api_register_device to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: function_private_audit
-- requires: policy_audit_logs
-- requires: policy_devices
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.register_device(
    session_token bytea,
    device_id_hash bytea,
    public_key bytea,
    key_algorithm text)
RETURNS TABLE (device_id uuid)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
    _device uuid;
BEGIN
    _uid := zkeb_private.begin_session(register_device.session_token);
    IF register_device.device_id_hash IS NULL OR pg_catalog.octet_length(register_device.device_id_hash) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'device_id_hash must be 32 bytes';
    END IF;
    IF register_device.key_algorithm IS NULL
       OR register_device.key_algorithm NOT IN ('ed25519', 'rsa-4096') THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'key_algorithm must be ed25519 or rsa-4096';
    END IF;
    IF register_device.public_key IS NULL
       OR pg_catalog.octet_length(register_device.public_key)
          <> (CASE register_device.key_algorithm WHEN 'ed25519' THEN 32 ELSE 550 END) THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'public_key has the wrong length for key_algorithm',
            DETAIL = pg_catalog.format('%s needs %s bytes', register_device.key_algorithm, CASE register_device.key_algorithm WHEN 'ed25519' THEN 32 ELSE 550 END);
    END IF;
    INSERT INTO zkeb.devices AS d (user_id, device_id_hash, key_algorithm, public_key)
    VALUES (_uid, register_device.device_id_hash, register_device.key_algorithm,
            register_device.public_key)
    ON CONFLICT ON CONSTRAINT devices_device_id_hash_key DO NOTHING
    RETURNING d.device_id INTO _device;
    IF _device IS NULL THEN
        -- A retry of the same registration answers with the same device.
        SELECT d.device_id INTO _device
          FROM zkeb.devices AS d
         WHERE d.user_id = _uid
           AND d.device_id_hash = register_device.device_id_hash
           AND d.key_algorithm = register_device.key_algorithm
           AND d.public_key = register_device.public_key
           AND d.revoked_at IS NULL;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'ZK409', MESSAGE = 'this device_id_hash is already registered with another key, or was revoked';
        END IF;
        device_id := _device;
        RETURN NEXT;
        RETURN;
    END IF;
    PERFORM zkeb_private.audit(_uid, 'device_register', true,
        pg_catalog.jsonb_build_object('device_id', _device, 'key_algorithm', register_device.key_algorithm));
    device_id := _device;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION zkeb_api.register_device(bytea, bytea, bytea, text) IS
    'Register a device and its public signing key (ed25519: 32 bytes; rsa-4096: 550-byte DER SubjectPublicKeyInfo) and return its id; registering the same hash and key again returns the same id. Errors: ZK401 no valid session; ZK403 account suspended; ZK409 device_id_hash already registered with another key or revoked; ZK422 device_id_hash is not 32 bytes, unknown key_algorithm or wrong public_key length.';
REVOKE ALL ON FUNCTION zkeb_api.register_device(bytea, bytea, bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.register_device(bytea, bytea, bytea, text) TO zkeb_app;

COMMIT;
