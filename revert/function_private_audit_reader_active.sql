-- Revert zkeb:function_private_audit_reader_active from pg
BEGIN;

DROP FUNCTION zkeb_private.audit_reader_active();

COMMIT;
