-- Revert zkeb:table_audit_logs from pg
BEGIN;

DROP TABLE zkeb.audit_logs;

COMMIT;
