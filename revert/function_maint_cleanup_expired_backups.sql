-- Revert zkeb:function_maint_cleanup_expired_backups from pg
BEGIN;

DROP FUNCTION zkeb_maint.cleanup_expired_backups(integer);

COMMIT;
