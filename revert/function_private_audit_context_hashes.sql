-- Revert zkeb:function_private_audit_context_hashes from pg
BEGIN;

DROP FUNCTION zkeb_private.audit_context_hashes();

COMMIT;
