-- Revert zkeb:function_maint_purge_expired_sessions from pg
BEGIN;

DROP FUNCTION zkeb_maint.purge_expired_sessions(integer);

COMMIT;
