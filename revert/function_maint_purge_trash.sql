-- Revert zkeb:function_maint_purge_trash from pg
BEGIN;

DROP FUNCTION zkeb_maint.purge_trash(interval, integer);

COMMIT;
