-- Deploy zkeb:function_api_register_user to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_lookup
-- requires: function_private_settings
-- requires: policy_settings
-- requires: policy_users
-- requires: function_private_audit
-- requires: policy_audit_logs
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.register_user(
    username_hash bytea,
    auth_salt bytea,
    auth_key bytea,
    kdf_params jsonb)
RETURNS TABLE (user_id uuid)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid := pg_catalog.gen_random_uuid();
    _created uuid;
BEGIN
    IF register_user.username_hash IS NULL OR pg_catalog.octet_length(register_user.username_hash) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'username_hash must be 32 bytes';
    END IF;
    IF register_user.auth_salt IS NULL OR pg_catalog.octet_length(register_user.auth_salt) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'auth_salt must be 32 bytes';
    END IF;
    IF register_user.auth_key IS NULL OR pg_catalog.octet_length(register_user.auth_key) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'auth_key must be 32 bytes';
    END IF;
    IF register_user.kdf_params IS NULL
       OR pg_catalog.jsonb_typeof(register_user.kdf_params) <> 'object'
       OR pg_catalog.octet_length(register_user.kdf_params::text) > 1024 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'kdf_params must be a JSON object of at most 1024 bytes';
    END IF;
    -- The lookup context names the new account, so the insert policy admits exactly it.
    PERFORM zkeb_private.begin_lookup(register_user.username_hash, _uid);
    -- Only a verifier of the auth key is stored, never the key.
    INSERT INTO zkeb.users AS u
           (user_id, username_hash, auth_salt, auth_verifier, kdf_params, storage_quota_bytes)
    VALUES (_uid, register_user.username_hash, register_user.auth_salt,
            pg_catalog.sha256(register_user.auth_salt || register_user.auth_key),
            register_user.kdf_params, (zkeb_private.settings()).default_quota_bytes)
    ON CONFLICT ON CONSTRAINT users_username_hash_key DO NOTHING
    RETURNING u.user_id INTO _created;
    IF _created IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK409', MESSAGE = 'this username hash is already registered';
    END IF;
    PERFORM zkeb_private.audit(_uid, 'register', true, '{}'::jsonb);
    user_id := _uid;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION zkeb_api.register_user(bytea, bytea, bytea, jsonb) IS
    'Create an account from a client-side username hash, auth salt, auth key (only sha256(auth_salt || auth_key) is stored) and KDF parameters, and return its id. Errors: ZK409 username hash already registered; ZK422 a hash, salt or key is not 32 bytes, or kdf_params is not a JSON object of at most 1 KiB.';
REVOKE ALL ON FUNCTION zkeb_api.register_user(bytea, bytea, bytea, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.register_user(bytea, bytea, bytea, jsonb) TO zkeb_app;

COMMIT;
