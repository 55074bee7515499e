-- Revert zkeb:function_private_claimed_user_id from pg
BEGIN;

DROP FUNCTION zkeb_private.claimed_user_id();

COMMIT;
