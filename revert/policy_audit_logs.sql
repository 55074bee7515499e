-- Revert zkeb:policy_audit_logs from pg
BEGIN;

DROP POLICY audit_logs_select_own ON zkeb.audit_logs;
DROP POLICY audit_logs_select_audit ON zkeb.audit_logs;
DROP POLICY audit_logs_select_maint ON zkeb.audit_logs;
DROP POLICY audit_logs_insert_own ON zkeb.audit_logs;
DROP POLICY audit_logs_insert_maint ON zkeb.audit_logs;
DROP POLICY audit_logs_delete_maint ON zkeb.audit_logs;

COMMIT;
