-- Revert zkeb:function_private_hmac_pad from pg
BEGIN;

DROP FUNCTION zkeb_private.hmac_pad(bytea, integer);

COMMIT;
