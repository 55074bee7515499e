-- Revert zkeb:function_private_current_user_id from pg
BEGIN;

DROP FUNCTION zkeb_private.current_user_id();

COMMIT;
