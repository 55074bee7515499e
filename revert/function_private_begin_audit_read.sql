-- Revert zkeb:function_private_begin_audit_read from pg
BEGIN;

DROP FUNCTION zkeb_private.begin_audit_read();

COMMIT;
