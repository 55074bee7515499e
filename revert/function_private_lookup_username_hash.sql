-- Revert zkeb:function_private_lookup_username_hash from pg
BEGIN;

DROP FUNCTION zkeb_private.lookup_username_hash();

COMMIT;
