-- Verify zkeb:table_audit_logs on pg
BEGIN;

SELECT user_hash, event_id, action, success, metadata, created_at, prev_hash, row_hash
  FROM zkeb.audit_logs WHERE false;

DO $$
BEGIN
    IF NOT (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
             WHERE oid = 'zkeb.audit_logs'::regclass) THEN
        RAISE EXCEPTION 'verify table_audit_logs: RLS not enabled and forced on zkeb.audit_logs';
    END IF;
    IF has_table_privilege('zkeb_app', 'zkeb.audit_logs', 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER') THEN
        RAISE EXCEPTION 'verify table_audit_logs: zkeb_app has a privilege on zkeb.audit_logs';
    END IF;
END
$$;

ROLLBACK;
