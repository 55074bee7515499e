-- Revert zkeb:function_private_random_bytes32 from pg
BEGIN;

DROP FUNCTION zkeb_private.random_bytes32();

COMMIT;
