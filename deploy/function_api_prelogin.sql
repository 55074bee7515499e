-- Deploy zkeb:function_api_prelogin to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_lookup
-- requires: function_private_hmac_sha256
-- requires: function_private_settings
-- requires: policy_settings
-- requires: policy_users
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.prelogin(username_hash bytea)
RETURNS TABLE (auth_salt bytea, kdf_params jsonb)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _settings zkeb_private.settings;
    _fake_salt bytea;
    _salt bytea;
    _kdf jsonb;
BEGIN
    IF prelogin.username_hash IS NULL OR pg_catalog.octet_length(prelogin.username_hash) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'username_hash must be 32 bytes';
    END IF;
    PERFORM zkeb_private.begin_lookup(prelogin.username_hash, NULL);
    _settings := zkeb_private.settings();
    -- Computed on every call, so known and unknown users cost the same.
    _fake_salt := zkeb_private.hmac_sha256(_settings.prelogin_key, prelogin.username_hash);
    SELECT u.auth_salt, u.kdf_params INTO _salt, _kdf
      FROM zkeb.users AS u
     WHERE u.username_hash = prelogin.username_hash;
    auth_salt := COALESCE(_salt, _fake_salt);
    kdf_params := COALESCE(_kdf, _settings.default_kdf_params);
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION zkeb_api.prelogin(bytea) IS
    'Return the auth salt and KDF parameters for a username hash; an unknown user gets a deterministic fake salt and the default parameters, so the answer does not reveal whether the account exists. Errors: ZK422 username_hash is not 32 bytes.';
REVOKE ALL ON FUNCTION zkeb_api.prelogin(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.prelogin(bytea) TO zkeb_app;

COMMIT;
