-- Revert zkeb:function_private_lookup_user_id from pg
BEGIN;

DROP FUNCTION zkeb_private.lookup_user_id();

COMMIT;
