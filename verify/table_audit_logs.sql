-- Verify zkeb:table_audit_logs on pg
BEGIN;

SELECT user_hash, event_id, action, success, metadata, created_at, prev_hash, row_hash
  FROM zkeb.audit_logs WHERE false;

DO $$
DECLARE
    _role text;
BEGIN
    IF NOT (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
             WHERE oid = 'zkeb.audit_logs'::regclass) THEN
        RAISE EXCEPTION 'verify table_audit_logs: RLS not enabled and forced on zkeb.audit_logs';
    END IF;
    -- Append-only starts with privileges: nobody but the owner holds any.
    FOREACH _role IN ARRAY ARRAY['public', 'zkeb_app', 'zkeb_maintainer', 'zkeb_auditor'] LOOP
        IF has_table_privilege(_role, 'zkeb.audit_logs', 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER') THEN
            RAISE EXCEPTION 'verify table_audit_logs: % has a privilege on zkeb.audit_logs', _role;
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_indexes
                    WHERE schemaname = 'zkeb' AND tablename = 'audit_logs'
                      AND indexname = 'audit_logs_created_at_idx'
                      AND indexdef LIKE '%(created_at) WHERE (action <> ''audit_retention_anchor''::text)') THEN
        RAISE EXCEPTION 'verify table_audit_logs: retention index audit_logs_created_at_idx missing or not partial';
    END IF;
END
$$;

ROLLBACK;
