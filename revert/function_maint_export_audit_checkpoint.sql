-- Revert zkeb:function_maint_export_audit_checkpoint from pg
BEGIN;

DROP FUNCTION zkeb_maint.export_audit_checkpoint();

COMMIT;
