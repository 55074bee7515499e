-- Revert zkeb:function_private_begin_maintenance from pg
BEGIN;

DROP FUNCTION zkeb_private.begin_maintenance();

COMMIT;
