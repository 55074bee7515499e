-- Deploy zkeb:function_private_hmac_sha256 to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- RFC 2104 HMAC over sha256(), so no extension (pgcrypto) has to be trusted.
CREATE FUNCTION zkeb_private.hmac_sha256(key bytea, msg bytea)
RETURNS bytea
LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _k bytea := hmac_sha256.key;
    _ipad bytea;
    _opad bytea;
BEGIN
    IF octet_length(_k) > 64 THEN
        _k := pg_catalog.sha256(_k);
    END IF;
    _k := _k || pg_catalog.decode(pg_catalog.repeat('00', 64 - octet_length(_k)), 'hex');
    _ipad := _k;
    _opad := _k;
    FOR _i IN 0..63 LOOP
        _ipad := pg_catalog.set_byte(_ipad, _i, pg_catalog.get_byte(_k, _i) # 54);
        _opad := pg_catalog.set_byte(_opad, _i, pg_catalog.get_byte(_k, _i) # 92);
    END LOOP;
    RETURN pg_catalog.sha256(_opad || pg_catalog.sha256(_ipad || hmac_sha256.msg));
END
$$;

COMMENT ON FUNCTION zkeb_private.hmac_sha256(bytea, bytea) IS
    'HMAC-SHA256 (RFC 2104) of msg under key.';
REVOKE ALL ON FUNCTION zkeb_private.hmac_sha256(bytea, bytea) FROM PUBLIC;

COMMIT;
