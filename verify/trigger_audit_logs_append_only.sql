-- Verify zkeb:trigger_audit_logs_append_only on pg
BEGIN;

DO $$
BEGIN
    IF (SELECT count(*) FROM pg_catalog.pg_trigger
         WHERE tgrelid = 'zkeb.audit_logs'::regclass
           AND tgname IN ('audit_logs_append_only_row', 'audit_logs_append_only_truncate')
           AND tgenabled = 'O') <> 2 THEN
        RAISE EXCEPTION 'verify trigger_audit_logs_append_only: triggers missing or disabled';
    END IF;
END
$$;

ROLLBACK;
