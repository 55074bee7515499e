-- Revert zkeb:function_maint_purge_audit_logs from pg
BEGIN;

DROP FUNCTION zkeb_maint.purge_audit_logs(interval, integer);

COMMIT;
