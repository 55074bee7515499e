-- Revert zkeb:function_private_audit_chain_problems from pg
BEGIN;

DROP FUNCTION zkeb_private.audit_chain_problems(jsonb, boolean);

COMMIT;
