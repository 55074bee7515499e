-- Deploy zkeb:function_api_login to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_lookup
-- requires: function_private_hmac_sha256
-- requires: function_private_random_bytes32
-- requires: function_private_settings
-- requires: policy_settings
-- requires: policy_users
-- requires: policy_devices
-- requires: policy_sessions
-- requires: function_private_audit
-- requires: policy_audit_logs
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Failures are reported as a status, not an error: an error would roll back the
-- failed-login counter, which must commit with the call.
CREATE FUNCTION zkeb_api.login(
    username_hash bytea,
    auth_key bytea,
    device_id uuid DEFAULT NULL,
    ttl interval DEFAULT '12 hours'::interval)
RETURNS TABLE (
    status text,
    session_token bytea,
    user_id uuid,
    expires_at timestamp with time zone,
    retry_after interval)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _settings zkeb_private.settings;
    _fake_salt bytea;
    _uid uuid;
    _salt bytea;
    _verifier bytea;
    _locked_until timestamptz;
    _key_ok boolean;
    _token bytea;
BEGIN
    IF login.username_hash IS NULL OR pg_catalog.octet_length(login.username_hash) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'username_hash must be 32 bytes';
    END IF;
    IF login.auth_key IS NULL OR pg_catalog.octet_length(login.auth_key) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'auth_key must be 32 bytes';
    END IF;
    IF login.ttl IS NULL OR login.ttl < interval '1 minute' OR login.ttl > interval '30 days' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'ttl must be between 1 minute and 30 days',
            DETAIL = pg_catalog.format('ttl is %s', login.ttl);
    END IF;
    PERFORM zkeb_private.begin_lookup(login.username_hash, NULL);
    _settings := zkeb_private.settings();
    SELECT u.user_id, u.auth_salt, u.auth_verifier, u.locked_until
      INTO _uid, _salt, _verifier, _locked_until
      FROM zkeb.users AS u
     WHERE u.username_hash = login.username_hash;
    -- The same work for a known and an unknown user: the fake salt and one
    -- verifier hash either way.
    _fake_salt := zkeb_private.hmac_sha256(_settings.prelogin_key, login.username_hash);
    _key_ok := COALESCE(pg_catalog.sha256(COALESCE(_salt, _fake_salt) || login.auth_key) = _verifier, false);
    IF _uid IS NULL THEN
        -- Unknown (or deleted) account: nobody to count the failure against.
        status := 'denied';
        RETURN NEXT;
        RETURN;
    END IF;
    PERFORM zkeb_private.begin_lookup(login.username_hash, _uid);

    IF _locked_until > pg_catalog.now() THEN
        -- The audit write needs the account row, which may be gone by now.
        SELECT u.locked_until INTO _locked_until
          FROM zkeb.users AS u
         WHERE u.user_id = _uid
           FOR UPDATE;
        IF NOT FOUND THEN
            status := 'denied';
            RETURN NEXT;
            RETURN;
        END IF;
        PERFORM zkeb_private.audit(_uid, 'login_locked', false, '{}'::jsonb);
        status := 'locked';
        retry_after := GREATEST(_locked_until - pg_catalog.now(), interval '0');
        RETURN NEXT;
        RETURN;
    END IF;

    IF NOT _key_ok THEN
        -- One atomic statement counts the failure and, at the threshold,
        -- locks the account (the count starts again after the lock).
        UPDATE zkeb.users AS u
           SET failed_login_count = CASE
                   WHEN u.locked_until > pg_catalog.now() THEN u.failed_login_count
                   WHEN u.failed_login_count + 1 >= _settings.lockout_threshold THEN 0
                   ELSE u.failed_login_count + 1 END,
               locked_until = CASE
                   WHEN u.locked_until > pg_catalog.now() THEN u.locked_until
                   WHEN u.failed_login_count + 1 >= _settings.lockout_threshold
                       THEN pg_catalog.now() + _settings.lockout_duration
                   ELSE u.locked_until END
         WHERE u.user_id = _uid
        RETURNING u.locked_until INTO _locked_until;
        IF NOT FOUND THEN
            -- The account was deleted meanwhile: it is unknown now.
            status := 'denied';
            RETURN NEXT;
            RETURN;
        END IF;
        IF _locked_until > pg_catalog.now() THEN
            PERFORM zkeb_private.audit(_uid, 'login_locked', false, '{"reason": "auth_key"}'::jsonb);
            status := 'locked';
            retry_after := _locked_until - pg_catalog.now();
        ELSE
            PERFORM zkeb_private.audit(_uid, 'login_denied', false, '{"reason": "auth_key"}'::jsonb);
            status := 'denied';
        END IF;
        RETURN NEXT;
        RETURN;
    END IF;

    -- The right key resets the counter. This also takes the account row
    -- lock, which revoke_device holds while it ends a device's sessions, so
    -- the device check below never misses a revocation.
    UPDATE zkeb.users AS u
       SET failed_login_count = 0, locked_until = NULL
     WHERE u.user_id = _uid
       AND (u.locked_until IS NULL OR u.locked_until <= pg_catalog.now());
    IF NOT FOUND THEN
        -- A concurrent call locked the account (or deleted it) meanwhile.
        SELECT u.locked_until INTO _locked_until FROM zkeb.users AS u WHERE u.user_id = _uid;
        IF _locked_until > pg_catalog.now() THEN
            status := 'locked';
            retry_after := _locked_until - pg_catalog.now();
        ELSE
            status := 'denied';
        END IF;
        RETURN NEXT;
        RETURN;
    END IF;

    IF login.device_id IS NOT NULL THEN
        PERFORM 1 FROM zkeb.devices AS d
         WHERE d.user_id = _uid AND d.device_id = login.device_id AND d.revoked_at IS NULL;
        IF NOT FOUND THEN
            -- A revoked or foreign device answers like a wrong key.
            PERFORM zkeb_private.audit(_uid, 'login_denied', false, '{"reason": "device"}'::jsonb);
            status := 'denied';
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;

    -- The token carries the user id, so the session is found by primary key;
    -- only its hash is stored.
    _token := pg_catalog.uuid_send(_uid) || zkeb_private.random_bytes32();
    INSERT INTO zkeb.sessions (user_id, token_hash, device_id, expires_at)
    VALUES (_uid, pg_catalog.sha256(_token), login.device_id, pg_catalog.now() + login.ttl);
    PERFORM zkeb_private.audit(_uid, 'login_ok', true,
        pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('device_id', login.device_id)));
    status := 'ok';
    session_token := _token;
    user_id := _uid;
    expires_at := pg_catalog.now() + login.ttl;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION zkeb_api.login(bytea, bytea, uuid, interval) IS
    'Check an auth key and open a session: status ok (with the 48-byte token, user id and expiry), denied (unknown user, wrong key, revoked or foreign device: identical answers) or locked (retry_after set); failures are counted and lock the account per settings. Errors: ZK422 username_hash or auth_key is not 32 bytes, or ttl is not between 1 minute and 30 days.';
REVOKE ALL ON FUNCTION zkeb_api.login(bytea, bytea, uuid, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.login(bytea, bytea, uuid, interval) TO zkeb_app;

COMMIT;
