-- Revert zkeb:function_private_audit_append from pg
BEGIN;

DROP FUNCTION zkeb_private.audit_append(uuid, text, boolean, jsonb, bigint, bytea);

COMMIT;
