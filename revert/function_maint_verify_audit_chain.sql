-- Revert zkeb:function_maint_verify_audit_chain from pg
BEGIN;

DROP FUNCTION zkeb_maint.verify_audit_chain(jsonb);

COMMIT;
