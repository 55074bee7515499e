-- Revert zkeb:function_private_audit_user_hash from pg
BEGIN;

DROP FUNCTION zkeb_private.audit_user_hash(uuid);

COMMIT;
