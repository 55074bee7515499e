-- Revert zkeb:trigger_audit_logs_append_only from pg
BEGIN;

DROP TRIGGER audit_logs_append_only_truncate ON zkeb.audit_logs;
DROP TRIGGER audit_logs_append_only_row ON zkeb.audit_logs;
DROP FUNCTION zkeb_private.audit_logs_append_only();

COMMIT;
