-- Revert zkeb:function_private_hmac_sha256 from pg
BEGIN;

DROP FUNCTION zkeb_private.hmac_sha256(bytea, bytea);

COMMIT;
