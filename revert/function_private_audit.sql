-- Revert zkeb:function_private_audit from pg
BEGIN;

DROP FUNCTION zkeb_private.audit(uuid, text, boolean, jsonb);

COMMIT;
