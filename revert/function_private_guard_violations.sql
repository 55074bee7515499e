-- Revert zkeb:function_private_guard_violations from pg
BEGIN;

DROP FUNCTION zkeb_private.guard_violations();

COMMIT;
