-- Revert zkeb:function_private_audit_row_hash from pg
BEGIN;

DROP FUNCTION zkeb_private.audit_row_hash(bytea, bytea, bigint, text, boolean, timestamp with time zone, jsonb);

COMMIT;
