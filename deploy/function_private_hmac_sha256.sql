-- Deploy zkeb:function_private_hmac_sha256 to pg
-- requires: schema_zkeb_private
-- requires: function_private_hmac_pad
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- RFC 2104 HMAC over sha256(), so no extension (pgcrypto) has to be trusted.
-- The audit hash does not call this: it uses the pads stored in
-- zkeb_private.settings (see zkeb_private.audit_user_hash).
CREATE FUNCTION zkeb_private.hmac_sha256(key bytea, msg bytea)
RETURNS bytea
LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN pg_catalog.sha256(zkeb_private.hmac_pad(hmac_sha256.key, 92)
                             || pg_catalog.sha256(zkeb_private.hmac_pad(hmac_sha256.key, 54)
                                                  || hmac_sha256.msg));
END
$$;

COMMENT ON FUNCTION zkeb_private.hmac_sha256(bytea, bytea) IS
    'HMAC-SHA256 (RFC 2104) of msg under key.';
REVOKE ALL ON FUNCTION zkeb_private.hmac_sha256(bytea, bytea) FROM PUBLIC;

COMMIT;
