-- Deploy zkeb:function_private_hmac_pad to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- The RFC 2104 block key XOR a pad byte (0x36 inner, 0x5c outer), without a
-- loop: the 64-byte block is XORed as eight big-endian 64-bit integers.
-- zkeb_private.settings stores the pads of the audit pepper (generated
-- columns), so the audit hash is two sha256() calls.
CREATE FUNCTION zkeb_private.hmac_pad(key bytea, pad integer)
RETURNS bytea
LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _hex text;
    _mask bigint;
BEGIN
    IF hmac_pad.pad NOT BETWEEN 0 AND 255 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'pad must be a byte (0 to 255)';
    END IF;
    -- Keys longer than the 64-byte block are hashed first; shorter ones are
    -- padded with zero bytes.
    _hex := pg_catalog.rpad(pg_catalog.encode(
                CASE WHEN pg_catalog.octet_length(hmac_pad.key) > 64
                     THEN pg_catalog.sha256(hmac_pad.key) ELSE hmac_pad.key END, 'hex'),
            128, '0');
    _mask := ('x' || pg_catalog.repeat(pg_catalog.lpad(pg_catalog.to_hex(hmac_pad.pad), 2, '0'), 8))::bit(64)::bigint;
    RETURN pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 1, 16))::bit(64)::bigint # _mask)
        || pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 17, 16))::bit(64)::bigint # _mask)
        || pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 33, 16))::bit(64)::bigint # _mask)
        || pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 49, 16))::bit(64)::bigint # _mask)
        || pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 65, 16))::bit(64)::bigint # _mask)
        || pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 81, 16))::bit(64)::bigint # _mask)
        || pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 97, 16))::bit(64)::bigint # _mask)
        || pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 113, 16))::bit(64)::bigint # _mask);
END
$$;

COMMENT ON FUNCTION zkeb_private.hmac_pad(bytea, integer) IS
    'HMAC-SHA256 block key (key hashed when longer than 64 bytes, zero-padded to 64) XOR the byte pad repeated: 54 (0x36) gives the inner key, 92 (0x5c) the outer. Errors: ZK422 pad is not a byte.';
REVOKE ALL ON FUNCTION zkeb_private.hmac_pad(bytea, integer) FROM PUBLIC;

COMMIT;
