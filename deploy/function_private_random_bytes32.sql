-- Deploy zkeb:function_private_random_bytes32 to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- gen_random_uuid() draws from pg_strong_random(); three of them carry 366
-- random bits, hashed down to 32 uniform bytes.
CREATE FUNCTION zkeb_private.random_bytes32()
RETURNS bytea
LANGUAGE sql
VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.sha256(pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
                          || pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
                          || pg_catalog.uuid_send(pg_catalog.gen_random_uuid()))
$$;

COMMENT ON FUNCTION zkeb_private.random_bytes32() IS
    '32 cryptographically random bytes from the server CSPRNG (no extension needed).';
REVOKE ALL ON FUNCTION zkeb_private.random_bytes32() FROM PUBLIC;

COMMIT;
